"""Volume anomalies per system and per narrative."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from api.auth import READ
from api.anomaly_schemas import AnomalyListOut, AnomalyOut
from api.deps import EngineDep, WindowDep

router = APIRouter(prefix="/v1", tags=["anomalies"], dependencies=[READ])


@router.get("/anomalies", response_model=AnomalyListOut)
def list_anomalies(engine: EngineDep, window: WindowDep, scope: Literal["system", "narrative"] | None = None,
                   limit: Annotated[int, Query(ge=1, le=500)] = 50,
                   offset: Annotated[int, Query(ge=0)] = 0) -> AnomalyListOut:
    """Hours with improbably many events on a system or in a narrative, newest first.

    `since` keeps hours ending after it, `until` hours starting before it (timestamps need a timezone).
    """
    since, until = window
    found = engine.list_anomalies(since, until, scope, limit, offset)
    return AnomalyListOut(anomalies=[AnomalyOut.of(a) for a in found], limit=limit, offset=offset)
