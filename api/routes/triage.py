"""Triage: an event's enrichment, and a person's overrides of it."""
from __future__ import annotations

from fastapi import APIRouter

from api.auth import ADMIN, READ
from api.deps import EngineDep
from api.triage_schemas import TriageOut, TriageOverrideIn

router = APIRouter(prefix="/v1", tags=["triage"])


@router.get("/events/{event_id}/triage", dependencies=[READ], response_model=TriageOut | None)
def get_triage(engine: EngineDep, event_id: str) -> TriageOut | None:
    """Category, sentiment, priority and team of a feedback event (null for alerts and changes)."""
    return TriageOut.of(engine.event_triage(event_id))


@router.patch("/events/{event_id}/triage", dependencies=[ADMIN], response_model=TriageOut)
def override_triage(engine: EngineDep, event_id: str, body: TriageOverrideIn) -> TriageOut:
    """A person sets fields (null clears one); their value wins over the inferred one and is kept."""
    view = TriageOut.of(engine.override_triage(event_id, body.changes(), body.by))
    assert view is not None
    return view
