"""Tools and resources: problem narratives (list, one in full, an event's) and link feedback."""
from __future__ import annotations

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import AwareDatetime, Field

from api.mcp.registry import Registry
from api.narrative_schemas import EditOut, LinkFeedbackIn, NarrativeListOut, NarrativeOut, NarrativeSummaryOut
from engine.narratives.queries import NarrativeDetail, NarrativeQuery

Status = Literal["emerging", "active", "cooling", "dormant", "resolved"]
NarrativeId = Annotated[str, Field(min_length=1, description="Narrative id, e.g. N-000012 (merged ids still work).")]
MaxMembers = Annotated[int, Field(ge=1, le=1000, description=(
    "Return at most this many member reports, the latest by time; `size` is the full count."))]


def narrative_out(detail: NarrativeDetail, max_members: int | None = None) -> NarrativeOut:
    """The HTTP API's narrative answer, its member list cut to the most recent `max_members`."""
    shaped = NarrativeOut.of_detail(detail)
    if max_members is not None and len(shaped.members) > max_members:
        latest = {id(m) for m in sorted(shaped.members, key=lambda m: m.event.occurred_at)[-max_members:]}
        shaped.members = [m for m in shaped.members if id(m) in latest]
    return shaped


def register(reg: Registry) -> None:
    """Add the narrative tools and the narrative resource."""

    @reg.tool("read", title="List problem narratives")
    def list_narratives(ctx: Context, status: Status | None = None,
                        system: Annotated[str | None, Field(description="Only narratives touching this system.")] = None,
                        user_id: Annotated[str | None, Field(description="Only narratives this user reported in.")] = None,
                        since: Annotated[AwareDatetime | None, Field(
                            description="Only narratives active since (ISO 8601 with timezone).")] = None,
                        min_size: Annotated[int, Field(ge=1)] = 1, sort: Literal["recent", "size"] = "recent",
                        limit: Annotated[int, Field(ge=1, le=500)] = 50,
                        offset: Annotated[int, Field(ge=0)] = 0) -> NarrativeListOut:
        """List the live problem narratives (groups of related reports), most recently active or largest first.

        Each entry has a title, top terms, status (emerging, active, cooling, dormant, resolved), size,
        users, systems, first/last seen and highest impact/urgency. Use it to see what is going on,
        e.g. `status="emerging"` for new problems or `system="checkout"`. Same as GET /v1/narratives.
        """
        query = NarrativeQuery(status, system, user_id, since, min_size, sort, limit, offset)
        found = reg.engine().list_narratives(query)
        return NarrativeListOut(narratives=[NarrativeSummaryOut.of(r, v) for r, v in found], limit=limit,
                                offset=offset)

    @reg.tool("read", title="One problem narrative in full")
    def get_narrative(narrative_id: NarrativeId, ctx: Context, max_members: MaxMembers = 100) -> NarrativeOut:
        """One problem narrative in full: title, extractive summary, symptom timeline, users, systems,
        volume per day, status, members (reports with the link evidence that joined them) and lineage
        (merges, splits). Use it to explain a problem or brief someone on it. Same as GET /v1/narratives/{id}.
        """
        return narrative_out(reg.engine().narrative(narrative_id), max_members)

    @reg.tool("read", title="The narrative a report belongs to")
    def narrative_for_event(event_id: Annotated[str, Field(min_length=1, description="Id of a stored report.")],
                            ctx: Context, max_members: MaxMembers = 100) -> NarrativeOut:
        """The problem narrative a stored report belongs to, in full (as get_narrative).
        Same as GET /v1/events/{id}/narrative.
        """
        return narrative_out(reg.engine().event_narrative(event_id), max_members)

    @reg.tool("admin", title="Confirm or reject that two reports belong together", read_only=False)
    def link_feedback(a: Annotated[str, Field(min_length=1, description="Id of one stored report.")],
                      b: Annotated[str, Field(min_length=1, description="Id of the other stored report.")],
                      verdict: Literal["confirm", "reject"], ctx: Context) -> EditOut:
        """Record a person's verdict that two reports are (confirm) or are not (reject) the same problem.

        Only call this when a person has said so. Confirmed pairs stay in one narrative and rejected
        pairs are kept apart by every later automatic step. Returns the narrative of each report
        afterwards. Same as POST /v1/links/feedback.
        """
        body = LinkFeedbackIn(a=a, b=b, verdict=verdict)
        return EditOut(narratives=reg.engine().link_feedback(body.a, body.b, body.verdict))

    @reg.resource("hypercorr://narratives/{narrative_id}", "read", name="narrative",
                  description="A problem narrative in full, as JSON (same as the get_narrative tool).")
    def narrative_resource(narrative_id: str, ctx: Context) -> NarrativeOut:
        return narrative_out(reg.engine().narrative(narrative_id))
