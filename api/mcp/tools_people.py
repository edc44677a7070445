"""Tool and resource: a user's context (their reports and open narratives). Per-user data: scope read."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import AwareDatetime, Field

from api.mcp.registry import Registry
from api.mcp.schemas import UserContextOut
from api.narrative_schemas import NarrativeSummaryOut
from api.schemas import EventOut, HistoryOut
from engine import Engine
from engine.narratives.queries import NarrativeQuery

OPEN_NARRATIVES_LIMIT = 100


def user_context(engine: Engine, user_id: str, since: datetime | None = None, until: datetime | None = None,
                 limit: int = 100, offset: int = 0) -> UserContextOut:
    """A user's history page and the unresolved narratives they reported in."""
    events = engine.user_history(user_id, since, until, limit=limit, offset=offset)
    history = HistoryOut(subject=user_id, events=[EventOut.of(e) for e in events], limit=limit, offset=offset)
    found = engine.list_narratives(NarrativeQuery(user_id=user_id, limit=OPEN_NARRATIVES_LIMIT))
    open_narratives = [NarrativeSummaryOut.of(row, view) for row, view in found if view.status != "resolved"]
    return UserContextOut(user_id=user_id, history=history, open_narratives=open_narratives)


def register(reg: Registry) -> None:
    """Add the user-context tool and resource."""

    @reg.tool("read", title="A user's context")
    def get_user_context(user_id: Annotated[str, Field(min_length=1, description="The reporting user's id.")],
                         ctx: Context,
                         since: Annotated[AwareDatetime | None, Field(
                             description="Only reports at or after this time (ISO 8601 with timezone).")] = None,
                         until: Annotated[AwareDatetime | None, Field(
                             description="Only reports before this time (ISO 8601 with timezone).")] = None,
                         limit: Annotated[int, Field(ge=1, le=1000)] = 100,
                         offset: Annotated[int, Field(ge=0)] = 0) -> UserContextOut:
        """What hypercorr knows about one user: their reports in time order (one page; use `since`
        for the recent ones) and the unresolved problem narratives they reported in.

        Use it before answering a user, to see what they already reported and which known problems
        affect them. An unknown user has an empty history.
        """
        return user_context(reg.engine(), user_id, since, until, limit, offset)

    @reg.resource("hypercorr://users/{user_id}", "read", name="user-context",
                  description="A user's context as JSON: history (first 100 reports) and open narratives.")
    def user_resource(user_id: str, ctx: Context) -> UserContextOut:
        return user_context(reg.engine(), user_id)
