"""Request and response shapes of the operational endpoints: alerts, changes, topology, suspects."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from api.schemas import EventOut
from engine.ops.suspects import OperationalView, ProbableOrigin, SuspectChange


class AlertResultOut(BaseModel):
    """What a notification did to one alert episode."""

    id: str
    status: Literal["created", "updated", "unchanged"]
    alert_status: str = Field(description="The episode's stored status after this notification: firing or resolved.")
    narrative_id: str | None


class AlertWebhookOut(BaseModel):
    """Result of an Alertmanager notification."""

    created: int
    updated: int
    unchanged: int
    results: list[AlertResultOut]


class TopologyOut(BaseModel):
    """The stored service dependency graph."""

    systems: dict[str, dict[str, list[str]]] = Field(description="system -> {\"depends_on\": [...]}")
    edges: int
    updated_at: datetime | None

    @classmethod
    def of(cls, topology: dict[str, list[str]], updated_at: str | None) -> "TopologyOut":
        """Shape the engine's mapping."""
        return cls(systems={s: {"depends_on": d} for s, d in topology.items()},
                   edges=sum(len(d) for d in topology.values()),
                   updated_at=datetime.fromisoformat(updated_at) if updated_at else None)


class SuspectChangeOut(BaseModel):
    """A change that preceded the narrative, with its reasons."""

    event: EventOut
    score: float
    relation: Literal["same_system", "upstream"]
    system: str = Field(description="The affected system the change touched, or sits upstream of.")
    path: str | None = Field(description="Dependency path from the affected system to the change's ('->': depends on).")
    hours_before: float = Field(description="How long before the narrative's first report.")
    reasons: list[str]

    @classmethod
    def of(cls, suspect: SuspectChange) -> "SuspectChangeOut":
        """Shape an engine suspect."""
        return cls(event=EventOut.of(suspect.event), score=suspect.score, relation=suspect.relation,
                   system=suspect.system, path=suspect.path, hours_before=suspect.hours_before,
                   reasons=suspect.reasons)


class ProbableOriginOut(BaseModel):
    """The most upstream affected system and why."""

    system: str
    basis: Literal["topology", "only_system", "first_hit"]
    downstream: list[str] = Field(description="Affected systems that depend on it.")
    reasons: list[str]

    @classmethod
    def of(cls, origin: ProbableOrigin) -> "ProbableOriginOut":
        """Shape an engine origin."""
        return cls(**origin.__dict__)


def operations_fields(view: OperationalView | None) -> dict[str, object]:
    """The narrative fields for an operational view (empty when there is none)."""
    if view is None:
        return {"suspect_changes": [], "probable_origin": None}
    origin = ProbableOriginOut.of(view.probable_origin) if view.probable_origin else None
    return {"suspect_changes": [SuspectChangeOut.of(s) for s in view.suspect_changes], "probable_origin": origin}
