"""FastAPI dependencies, as `Annotated` aliases the routers declare."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Depends, Query, Request
from pydantic import ValidationError

from api.errors import request_errors
from engine import Engine, EventKind, RelatedFilters


def get_engine(request: Request) -> Engine:
    """The engine built at start-up."""
    return request.app.state.engine


def related_filters(
    kinds: Annotated[list[EventKind], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    systems: Annotated[list[str], Query()] = [],  # noqa: B006
    user_id: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    earlier_only: bool = False,
) -> RelatedFilters:
    """Related-report filters from query parameters, validated like the JSON ones."""
    try:
        return RelatedFilters(kinds=kinds, systems=systems, user_id=user_id, since=since, until=until,
                              earlier_only=earlier_only)
    except ValidationError as exc:
        raise request_errors(exc, "query") from exc


def time_window(since: datetime | None = None, until: datetime | None = None) -> tuple[datetime | None, datetime | None]:
    """An optional [since, until) window; timestamps must carry a timezone."""
    try:
        filters = RelatedFilters(since=since, until=until)
    except ValidationError as exc:
        raise request_errors(exc, "query") from exc
    return filters.since, filters.until


EngineDep = Annotated[Engine, Depends(get_engine)]
# Page offsets are bounded: SQLite integers overflow near 2**63 (a 500, found by schema fuzzing).
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
FiltersDep = Annotated[RelatedFilters, Depends(related_filters)]
WindowDep = Annotated[tuple[datetime | None, datetime | None], Depends(time_window)]
