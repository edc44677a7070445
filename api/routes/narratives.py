"""Narratives: list, detail, timeline, and a person's edits."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.auth import ADMIN, READ
from api.deps import EngineDep, Offset
from api.narrative_schemas import (EditOut, LinkFeedbackIn, MergeIn, MoveIn, NarrativeListOut, NarrativeOut,
                                   NarrativeSummaryOut, SplitIn, TimelineOut)
from api.triage_schemas import ResolveIn
from engine.narratives.queries import NarrativeQuery

router = APIRouter(prefix="/v1", tags=["narratives"])
Status = Literal["emerging", "active", "cooling", "dormant", "resolved"]
MembersLimit = Annotated[int, Query(ge=1, le=1000, description="Members per page (in time order).")]


@router.get("/narratives", dependencies=[READ], response_model=NarrativeListOut)
def list_narratives(engine: EngineDep, status: Status | None = None, system: str | None = None,
                    user_id: str | None = None, since: datetime | None = None,
                    min_size: Annotated[int, Query(ge=1, le=1_000_000_000)] = 1, sort: Literal["recent", "size"] = "recent",
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    offset: Offset = 0) -> NarrativeListOut:
    """Live narratives, filtered, sorted by recent activity or size, paginated."""
    query = NarrativeQuery(status, system, user_id, since, min_size, sort, limit, offset)
    found = engine.list_narratives(query)
    return NarrativeListOut(narratives=[NarrativeSummaryOut.of(r, v) for r, v in found], limit=limit, offset=offset)


@router.get("/narratives/{narrative_id}", dependencies=[READ], response_model=NarrativeOut)
def get_narrative(engine: EngineDep, narrative_id: str, members_limit: MembersLimit = 200,
                  members_offset: Offset = 0) -> NarrativeOut:
    """One narrative in full; an absorbed id answers with its survivor. Members are paginated."""
    return NarrativeOut.of_detail(engine.narrative(narrative_id), members_limit, members_offset)


@router.get("/narratives/{narrative_id}/timeline", dependencies=[READ], response_model=TimelineOut)
def get_timeline(engine: EngineDep, narrative_id: str) -> TimelineOut:
    """How the narrative's symptoms evolved."""
    detail = engine.narrative(narrative_id)
    return TimelineOut.of(detail.row.id, detail.view.symptoms)


@router.get("/events/{event_id}/narrative", dependencies=[READ], response_model=NarrativeOut)
def get_event_narrative(engine: EngineDep, event_id: str, members_limit: MembersLimit = 200,
                        members_offset: Offset = 0) -> NarrativeOut:
    """The narrative an event belongs to (members paginated)."""
    return NarrativeOut.of_detail(engine.event_narrative(event_id), members_limit, members_offset)


@router.post("/narratives/{narrative_id}/merge", dependencies=[ADMIN], response_model=EditOut)
def merge(engine: EngineDep, narrative_id: str, body: MergeIn) -> EditOut:
    """Merge two narratives; the older id survives and the other answers with it from now on."""
    return EditOut(narrative_id=engine.merge_narratives(narrative_id, body.into))


@router.post("/narratives/{narrative_id}/split", dependencies=[ADMIN], response_model=EditOut)
def split(engine: EngineDep, narrative_id: str, body: SplitIn) -> EditOut:
    """Move the listed members into a new narrative whose parent is this one."""
    return EditOut(narrative_id=engine.split_narrative(narrative_id, body.event_ids))


@router.post("/narratives/{narrative_id}/resolve", dependencies=[ADMIN], response_model=EditOut)
def resolve(engine: EngineDep, narrative_id: str, body: ResolveIn | None = None) -> EditOut:
    """Mark resolved, optionally by a team (`{"team": ...}`: routing of similar reports learns from it);
    a later report on it reopens the same narrative."""
    return EditOut(narrative_id=engine.resolve_narrative(narrative_id, body.team if body else None))


@router.post("/events/{event_id}/move", dependencies=[ADMIN], response_model=EditOut)
def move(engine: EngineDep, event_id: str, body: MoveIn) -> EditOut:
    """Pin an event to a narrative."""
    return EditOut(narrative_id=engine.move_event(event_id, body.narrative_id))


@router.post("/links/feedback", dependencies=[ADMIN], response_model=EditOut)
def link_feedback(engine: EngineDep, body: LinkFeedbackIn) -> EditOut:
    """Confirm or reject that two events belong together; automatic steps obey it from now on."""
    return EditOut(narratives=engine.link_feedback(body.a, body.b, body.verdict))


@router.post("/narratives/consolidate", dependencies=[ADMIN], response_model=dict[str, int])
def consolidate(engine: EngineDep) -> dict[str, int]:
    """Run consolidation now (it also runs every 100 new events): merges converging narratives, splits drifting ones."""
    return engine.consolidate()
