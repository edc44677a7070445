"""Response shapes of the HTTP API (requests reuse the engine's validated models)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from context_store import EventRecord
from engine import EventIn, RelatedFilters, RelatedHit


class EventBatchIn(BaseModel):
    """Several events, stored all-or-nothing."""

    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1)


class EventOut(BaseModel):
    """A stored event."""

    id: str
    kind: str
    title: str
    text: str
    user_id: str | None
    systems: list[str]
    channel: str | None
    occurred_at: datetime
    impact: str | None
    urgency: str | None
    attributes: dict[str, str]
    ingested_at: datetime

    @classmethod
    def of(cls, record: EventRecord) -> "EventOut":
        """Shape a store record."""
        return cls(id=record.id, kind=record.kind, title=record.title, text=record.text,
                   user_id=record.user_id, systems=list(record.systems), channel=record.channel,
                   occurred_at=record.occurred_at, impact=record.impact, urgency=record.urgency,
                   attributes=record.attributes, ingested_at=record.ingested_at)


class EvidenceOut(BaseModel):
    """Why two events are related, signal by signal."""

    semantic: float = Field(description="Cosine of the MiniLM embeddings (mean of full-text and title-only).")
    lexical: float = Field(description="BM25 relative to the query's own BM25 (free text: to the best candidate), 0-1.")
    shared_terms: list[str] = Field(description="Distinctive query terms the related event also contains.")
    same_user: bool
    shared_systems: list[str]
    time_gap_hours: float | None = Field(description="Related event's time minus the anchor's (negative: earlier).")
    text_score: float = Field(description="Fused text relevance before context.")
    context_boost: float = Field(description="Multiplier - 1 from same user and shared systems.")
    time_proximity: float = Field(description="Additive prior for closeness in time (0 when no anchor time).")
    topology_path: str | None = Field(None, description="Dependency path between the two events' systems when the "
                                      "service topology lifted the score ('->' reads 'depends on').")


class RelatedOut(BaseModel):
    """One related event."""

    event: EventOut
    score: float
    evidence: EvidenceOut

    @classmethod
    def of(cls, hit: RelatedHit) -> "RelatedOut":
        """Shape an engine hit."""
        return cls(event=EventOut.of(hit.event), score=hit.score, evidence=EvidenceOut(**hit.evidence.__dict__))


class IngestItemOut(BaseModel):
    """What happened to one submitted event."""

    id: str
    status: Literal["created", "unchanged"]
    narrative_id: str | None = Field(None, description="The narrative the event joined (or is in).")
    triage: "TriageOut | None" = Field(None, description="Category, sentiment, priority and team (feedback only).")


class IngestOut(BaseModel):
    """Result of POST /v1/events."""

    created: int
    unchanged: int
    results: list[IngestItemOut]


class SearchIn(BaseModel):
    """A free-text related-report search."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    text: str = Field(min_length=1, max_length=20_000)
    k: int = Field(10, ge=1, le=100)
    filters: RelatedFilters = Field(default_factory=RelatedFilters)
    user_id: str | None = Field(None, description="Rank in this user's context (same-user evidence).")
    systems: list[str] = Field(default_factory=list, description="Rank in these systems' context.")


class HistoryOut(BaseModel):
    """A user's or a system's events in time order (one page)."""

    subject: str
    events: list[EventOut]
    limit: int
    offset: int


class ErasureOut(BaseModel):
    """Result of erasing a user."""

    user_id: str
    erased_events: int


class HealthOut(BaseModel):
    """Liveness and store sizes."""

    status: Literal["ok"]
    events: int
    vectors: int
    index: str
    model: str


from api.triage_schemas import TriageOut  # noqa: E402 - defined over EventOut above

IngestItemOut.model_rebuild()
