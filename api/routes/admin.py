"""Operator checks: do the derived indexes agree with the record of truth?"""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from api.auth import ADMIN
from api.deps import EngineDep

router = APIRouter(prefix="/v1/admin", tags=["admin"], dependencies=[ADMIN])


class ConsistencyOut(BaseModel):
    """Sizes of SQLite, the vector index and the graph's event nodes, and any disagreement."""

    ok: bool
    events: int
    vectors: int
    graph_events: int
    problems: list[str]


@router.get("/consistency", response_model=ConsistencyOut)
def consistency(engine: EngineDep) -> ConsistencyOut:
    """Compare every stored event with the vector index and the issue graph (reads all ids)."""
    report = engine.verify_store()
    return ConsistencyOut(ok=report.ok, events=report.events, vectors=report.vectors,
                          graph_events=report.graph_events, problems=report.problems)
