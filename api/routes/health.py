"""Liveness."""
from __future__ import annotations

from fastapi import APIRouter

from api.deps import EngineDep
from api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut)
def healthz(engine: EngineDep) -> HealthOut:
    """The service answers and its store is readable."""
    stats = engine.stats()
    return HealthOut(status="ok", events=stats.events, vectors=stats.vectors, index=stats.index_kind,
                     model=engine.embedder.name)
