"""Events: ingest, fetch, related reports, free-text search."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response
from pydantic import ValidationError

from api.auth import INGEST, READ
from api.deps import EngineDep, FiltersDep
from api.errors import request_errors
from api.schemas import EventBatchIn, IngestItemOut, IngestOut, RelatedOut, SearchIn
from api.triage_schemas import EventTriagedOut, TriageOut
from engine import EventIn

router = APIRouter(prefix="/v1", tags=["events"])
_BODY_SCHEMA = {"requestBody": {"required": True, "content": {"application/json": {"schema": {
    "oneOf": [{"$ref": "#/components/schemas/EventIn"}, {"$ref": "#/components/schemas/EventBatchIn"}]}}}}}


def _parse_events(payload: Any) -> list[EventIn]:
    model = EventBatchIn if isinstance(payload, dict) and "events" in payload else EventIn
    try:
        parsed = model.model_validate(payload)
    except ValidationError as exc:
        raise request_errors(exc, "body") from exc
    return parsed.events if isinstance(parsed, EventBatchIn) else [parsed]


@router.post("/events", dependencies=[INGEST], response_model=IngestOut, status_code=201,
             openapi_extra=_BODY_SCHEMA,
             responses={200: {"model": IngestOut, "description": "Nothing new: every event was already stored"}})
def post_events(engine: EngineDep, request: Request, response: Response,
                payload: Annotated[Any, Body(include_in_schema=False)]) -> IngestOut:
    """Store one event, or `{"events": [...]}` all-or-nothing. Re-posting identical content is a no-op."""
    outcomes = engine.ingest(_parse_events(payload))
    request.app.state.metrics.record_ingest([o.status for o in outcomes])
    created = sum(o.status == "created" for o in outcomes)
    if not created:
        response.status_code = 200
    return IngestOut(created=created, unchanged=len(outcomes) - created,
                     results=[IngestItemOut(id=o.id, status=o.status, narrative_id=o.narrative_id,
                                            triage=TriageOut.of(o.triage)) for o in outcomes])


@router.get("/events/{event_id}", dependencies=[READ], response_model=EventTriagedOut)
def get_event(engine: EngineDep, event_id: str) -> EventTriagedOut:
    """One stored event with its triage (category, sentiment, priority, team; null for alerts and changes)."""
    return EventTriagedOut.of_triaged(*engine.get_event_with_triage(event_id))


@router.get("/events/{event_id}/related", dependencies=[READ], response_model=list[RelatedOut])
def related(engine: EngineDep, event_id: str, filters: FiltersDep,
            k: Annotated[int, Query(ge=1, le=100)] = 10) -> list[RelatedOut]:
    """The k events most related to this one, each with its evidence."""
    return [RelatedOut.of(hit) for hit in engine.related(event_id, k, filters)]


@router.post("/search", dependencies=[READ], response_model=list[RelatedOut])
def search(engine: EngineDep, body: SearchIn) -> list[RelatedOut]:
    """The k events most related to a free text, each with its evidence."""
    hits = engine.search(body.text, body.k, body.filters, user_id=body.user_id, systems=body.systems)
    return [RelatedOut.of(hit) for hit in hits]
