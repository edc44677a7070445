"""Tools: reports related to a stored report or to a free text, each with its evidence."""
from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from api.mcp.registry import Registry
from api.mcp.schemas import RelatedReportsOut
from api.schemas import RelatedOut, SearchIn
from engine import RelatedFilters

K = Annotated[int, Field(ge=1, le=100, description="How many related reports to return (1-100).")]
Filters = Annotated[RelatedFilters | None, Field(
    description="Optional restrictions: kinds (feedback/alert/change), systems, user_id, since/until "
                "(ISO 8601 with timezone), earlier_only.")]


def register(reg: Registry) -> None:
    """Add the related-report tools."""

    @reg.tool("read", title="Related reports for a report")
    def related_reports(event_id: Annotated[str, Field(min_length=1, description="Id of a stored report.")],
                        ctx: Context, k: K = 10, filters: Filters = None) -> RelatedReportsOut:
        """Find earlier and later reports related to a stored report (ticket, alert, change...), best first.

        Each hit carries the report and the evidence: semantic and lexical similarity, the distinctive
        terms both share, same user, shared systems and the time gap in hours (negative: earlier).
        Use it to see whether a new ticket repeats a known problem and which alerts or deployments
        came with it. Same answer as GET /v1/events/{id}/related.
        """
        hits = reg.engine().related(event_id, k, filters)
        return RelatedReportsOut(related=[RelatedOut.of(hit) for hit in hits])

    @reg.tool("read", title="Reports related to a text")
    def search_reports(text: Annotated[str, Field(min_length=1, max_length=20_000,
                                                  description="What the user reported, in their words.")],
                       ctx: Context, k: K = 10, filters: Filters = None,
                       user_id: Annotated[str | None, Field(
                           description="Rank in this user's context (their earlier reports score higher).")] = None,
                       systems: Annotated[list[str], Field(
                           description="Rank in these systems' context.")] = []) -> RelatedReportsOut:  # noqa: B006
        """Find stored reports related to a free text, best first, each with its evidence.

        Use it for a report that is not stored yet (e.g. a chat message). `user_id` and `systems`
        rank in that context without filtering; use `filters` to restrict. Same answer as POST /v1/search.
        """
        body = SearchIn(text=text, k=k, filters=filters or RelatedFilters(), user_id=user_id, systems=systems)
        hits = reg.engine().search(body.text, body.k, body.filters, user_id=body.user_id, systems=body.systems)
        return RelatedReportsOut(related=[RelatedOut.of(hit) for hit in hits])
