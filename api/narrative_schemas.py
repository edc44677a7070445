"""Response and request shapes of the narrative endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.anomaly_schemas import AnomalyOut
from api.ops_schemas import ProbableOriginOut, SuspectChangeOut, operations_fields
from api.schemas import EventOut
from context_store import NarrativeRow
from engine.narratives.queries import NarrativeDetail
from engine.narratives.views import NarrativeView, Symptom


class SymptomOut(BaseModel):
    """One distinct symptom, in order of first appearance."""

    label: str
    count: int
    first_seen: datetime
    last_seen: datetime
    event_ids: list[str]


class NarrativeSummaryOut(BaseModel):
    """A narrative at a glance."""

    id: str
    title: str
    top_terms: list[str]
    status: Literal["emerging", "active", "cooling", "dormant", "resolved"]
    size: int
    users: list[str]
    systems: list[str]
    kinds: list[str]
    first_seen: datetime
    last_seen: datetime
    highest_impact: str | None
    highest_urgency: str | None
    parent_id: str | None
    resolved_at: datetime | None
    growth_anomaly: AnomalyOut | None = Field(None, description="Set when the narrative's hourly volume was "
                                              "anomalous within the last 2 days of the stream (see /v1/anomalies).")

    @classmethod
    def of(cls, row: NarrativeRow, view: NarrativeView) -> "NarrativeSummaryOut":
        """Shape a narrative row and its view."""
        return cls(id=row.id, title=view.title, top_terms=view.top_terms, status=view.status, size=view.size,
                   users=view.users, systems=view.systems, kinds=view.kinds, first_seen=view.first_seen,
                   last_seen=view.last_seen, highest_impact=view.highest_impact,
                   highest_urgency=view.highest_urgency, parent_id=row.parent_id, resolved_at=row.resolved_at,
                   growth_anomaly=AnomalyOut.of(view.growth_anomaly) if view.growth_anomaly else None)


class LinkOut(BaseModel):
    """A link between two members, with the evidence recorded when it was made."""

    from_event: str
    to_event: str
    score: float
    evidence: dict[str, object]


class MemberOut(BaseModel):
    """A member event with the links it has inside the narrative."""

    event: EventOut
    links: list[LinkOut]


class LineageOut(BaseModel):
    """One lineage fact."""

    relation: str
    other_id: str
    at: datetime
    by: str


class TimelineOut(BaseModel):
    """How the symptoms evolved: "a (Mon 02 Nov) -> b (Wed 04 Nov)"."""

    id: str
    timeline: str
    symptoms: list[SymptomOut]

    @classmethod
    def of(cls, narrative_id: str, symptoms: list[Symptom]) -> "TimelineOut":
        """Shape a symptom list."""
        text = " -> ".join(f"{s.label} ({s.first_seen:%a %d %b}{f', x{s.count}' if s.count > 1 else ''})"
                           for s in symptoms)
        return cls(id=narrative_id, timeline=text, symptoms=[SymptomOut(**s.__dict__) for s in symptoms])


class NarrativeOut(NarrativeSummaryOut):
    """A narrative in full."""

    summary: list[str]
    timeline: TimelineOut
    volume_per_day: dict[str, int]
    members: list[MemberOut]
    lineage: list[LineageOut]
    suspect_changes: list[SuspectChangeOut] = Field(default_factory=list, description="Changes that preceded the "
                                                    "first report on the same or upstream systems, best first.")
    probable_origin: ProbableOriginOut | None = None

    @classmethod
    def of_detail(cls, detail: NarrativeDetail, members_limit: int | None = None,
                  members_offset: int = 0) -> "NarrativeOut":
        """Shape a narrative detail; members (in time order) are paginated, `size` counts them all."""
        ids = {m.seq: m.id for m in detail.members}
        links: dict[int, list[LinkOut]] = {}
        for link in detail.links:
            links.setdefault(link.later_seq, []).append(LinkOut(
                from_event=ids[link.later_seq], to_event=ids[link.earlier_seq], score=link.score, evidence=link.evidence))
        base = NarrativeSummaryOut.of(detail.row, detail.view).model_dump()
        return cls(**base, summary=detail.view.summary, timeline=TimelineOut.of(detail.row.id, detail.view.symptoms),
                   volume_per_day=detail.view.volume_per_day,
                   members=[MemberOut(event=EventOut.of(m), links=links.get(m.seq, []))
                            for m in detail.members[members_offset:][:members_limit]],
                   lineage=[LineageOut(relation=l.relation, other_id=l.other_id, at=l.at, by=l.by)
                            for l in detail.lineage], **operations_fields(detail.operations))


class NarrativeListOut(BaseModel):
    """One page of narratives."""

    narratives: list[NarrativeSummaryOut]
    limit: int
    offset: int


class MergeIn(BaseModel):
    """Merge this narrative with another; the older id survives."""

    model_config = ConfigDict(extra="forbid")
    into: str = Field(min_length=1)


class SplitIn(BaseModel):
    """Move these members into a new narrative (its parent is this one)."""

    model_config = ConfigDict(extra="forbid")
    event_ids: list[str] = Field(min_length=1, max_length=1000)


class MoveIn(BaseModel):
    """Pin an event to a narrative."""

    model_config = ConfigDict(extra="forbid")
    narrative_id: str = Field(min_length=1)


class LinkFeedbackIn(BaseModel):
    """A person's verdict on whether two events belong together."""

    model_config = ConfigDict(extra="forbid")
    a: str = Field(min_length=1)
    b: str = Field(min_length=1)
    verdict: Literal["confirm", "reject"]


class EditOut(BaseModel):
    """The narrative ids after an edit."""

    narrative_id: str | None = None
    narratives: dict[str, str | None] = Field(default_factory=dict)
