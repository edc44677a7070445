"""Tools: knowledge-base articles for a user or a narrative (read), and a person's verdict on an
article (ingest). Same engine calls and answer models as the HTTP routes in api/routes/kb.py."""
from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from api.kb_schemas import KbFeedbackOut, SuggestionsOut
from api.mcp.registry import Registry
from engine.events import MAX_TEXT_CHARS
from engine.kb.articles import KbFeedbackIn, Verdict

Count = Annotated[int, Field(ge=1, le=100, description="How many articles to return.")]


def register(reg: Registry) -> None:
    """Add the knowledge-base tools."""

    @reg.tool("read", title="Knowledge-base articles for a user")
    def suggest_articles(user_id: Annotated[str, Field(min_length=1, description="The user being helped.")],
                         ctx: Context,
                         text: Annotated[str | None, Field(max_length=MAX_TEXT_CHARS, description=(
                             "What the user just said (optional; vague text is fine)."))] = None,
                         systems: Annotated[list[str], Field(max_length=50, description=(
                             "Systems the user is on, beyond those in their history."))] = [],  # noqa: B006
                         k: Count = 5) -> SuggestionsOut:
        """Articles that fit this user now, best first, each with its reasons: fit to `text`, to the
        user's recent reports and open narratives, and to their systems; articles they already saw
        or found unhelpful are demoted, articles that helped with similar problems rise. With no
        text and no history it returns what is trending on their systems (`mode: trending`).
        Same as GET /v1/users/{user_id}/suggestions.
        """
        return SuggestionsOut.of(user_id, reg.engine().suggester.for_user(user_id, text, k, systems))

    @reg.tool("read", title="Knowledge-base articles for a narrative")
    def narrative_articles(narrative_id: Annotated[str, Field(min_length=1, description="A narrative id.")],
                           ctx: Context, k: Count = 5) -> SuggestionsOut:
        """Articles that fit a problem narrative, raised where they helped people with similar
        narratives. Same as GET /v1/narratives/{narrative_id}/suggestions."""
        return SuggestionsOut.of(narrative_id, reg.engine().suggester.for_narrative(narrative_id, k))

    @reg.tool("ingest", title="Record a user's verdict on an article", read_only=False)
    def article_feedback(user_id: Annotated[str, Field(min_length=1, description="The user who was shown it.")],
                         article_id: Annotated[str, Field(min_length=1, description="The article's id.")],
                         verdict: Verdict, ctx: Context,
                         narrative_id: Annotated[str | None, Field(description=(
                             "The problem it concerned; default: the user's latest narrative."))] = None
                         ) -> KbFeedbackOut:
        """Record that a user found an article helpful, not helpful, or saw it. Only call this when
        the user has said so; later suggestions use it. Same as POST /v1/kb/feedback."""
        body = KbFeedbackIn(user_id=user_id, article_id=article_id, verdict=verdict, narrative_id=narrative_id)
        return KbFeedbackOut.of(reg.engine().kb.feedback(body))
