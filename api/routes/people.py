"""Per-user and per-system context: histories and erasure."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.auth import ADMIN, READ
from api.deps import EngineDep, Offset, WindowDep
from api.schemas import ErasureOut, EventOut, HistoryOut

router = APIRouter(prefix="/v1", tags=["context"])
Limit = Annotated[int, Query(ge=1, le=1000)]


@router.get("/users/{user_id}/history", dependencies=[READ], response_model=HistoryOut)
def user_history(engine: EngineDep, user_id: str, window: WindowDep, limit: Limit = 100,
                 offset: Offset = 0) -> HistoryOut:
    """A user's events in time order, optionally within [since, until)."""
    events = engine.user_history(user_id, *window, limit=limit, offset=offset)
    return HistoryOut(subject=user_id, events=[EventOut.of(e) for e in events], limit=limit, offset=offset)


@router.get("/systems/{system}/history", dependencies=[READ], response_model=HistoryOut)
def system_history(engine: EngineDep, system: str, window: WindowDep, limit: Limit = 100,
                   offset: Offset = 0) -> HistoryOut:
    """Events affecting a system in time order, optionally within [since, until)."""
    events = engine.system_history(system, *window, limit=limit, offset=offset)
    return HistoryOut(subject=system, events=[EventOut.of(e) for e in events], limit=limit, offset=offset)


@router.delete("/users/{user_id}", dependencies=[ADMIN], response_model=ErasureOut)
def erase_user(engine: EngineDep, user_id: str) -> ErasureOut:
    """Erase every event of a user: rows, vectors, lexical index and graph. Idempotent."""
    return ErasureOut(user_id=user_id, erased_events=engine.erase_user(user_id))
