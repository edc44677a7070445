"""Request and response shapes of the knowledge-base and suggestion endpoints."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from context_store import ArticleRecord, KbFeedbackRow
from engine.kb.articles import ArticleContent, ArticleIn
from engine.kb.service import ArticleOutcome
from engine.suggestions.gaps import Gap
from engine.suggestions.model import Reason, Suggestion, SuggestionResult

MAX_ARTICLE_BATCH = 1_000


class ArticleBatchIn(BaseModel):
    """Several articles, stored all-or-nothing."""

    model_config = ConfigDict(extra="forbid")
    articles: list[ArticleIn] = Field(min_length=1, max_length=MAX_ARTICLE_BATCH)


class ArticlePutIn(ArticleContent):
    """The full new content of an article; `id`, if given, must match the path."""

    id: str | None = None


class ArticleOut(BaseModel):
    """A stored article."""

    id: str
    title: str
    body: str
    systems: list[str]
    tags: list[str]
    url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, record: ArticleRecord) -> "ArticleOut":
        """Shape a store record."""
        return cls(id=record.id, title=record.title, body=record.body, systems=list(record.systems),
                   tags=list(record.tags), url=record.url, created_at=record.created_at, updated_at=record.updated_at)


class ArticleItemOut(BaseModel):
    """What happened to one submitted article."""

    id: str
    status: Literal["created", "updated", "unchanged", "deleted"]

    @classmethod
    def of(cls, outcome: ArticleOutcome) -> "ArticleItemOut":
        """Shape an outcome."""
        return cls(id=outcome.id, status=outcome.status)


class ArticleWriteOut(BaseModel):
    """Counts and per-article outcomes of a POST."""

    created: int
    unchanged: int
    results: list[ArticleItemOut]


class ArticleListOut(BaseModel):
    """A page of articles in id order."""

    articles: list[ArticleOut]
    total: int
    limit: int
    offset: int


class KbFeedbackOut(BaseModel):
    """A recorded verdict, with the narrative it was attributed to."""

    user_id: str
    article_id: str
    verdict: str
    narrative_id: str | None
    given_at: datetime

    @classmethod
    def of(cls, row: KbFeedbackRow) -> "KbFeedbackOut":
        """Shape a stored verdict."""
        return cls(user_id=row.user_id, article_id=row.article_id, verdict=row.verdict,
                   narrative_id=row.narrative_id, given_at=row.given_at)


class ReasonOut(BaseModel):
    """One signal's part in a suggestion."""

    signal: str = Field(description="text | history | narrative | trending | systems | helped_similar | seen | "
                                    "not_helpful")
    score: float = Field(description="Cosine for relevance signals, the bonus or boost added, or the factor applied.")
    summary: str
    event_id: str | None = None
    narrative_id: str | None = None
    passage: str | None = Field(None, description="The article passage that matched.")
    systems: list[str] = []

    @classmethod
    def of(cls, reason: Reason) -> "ReasonOut":
        """Shape a reason."""
        return cls(signal=reason.signal, score=reason.score, summary=reason.summary, event_id=reason.event_id,
                   narrative_id=reason.narrative_id, passage=reason.passage, systems=list(reason.systems))


class ArticleRefOut(BaseModel):
    """An article as a suggestion shows it (no body)."""

    id: str
    title: str
    url: str | None
    systems: list[str]
    tags: list[str]


class SuggestionOut(BaseModel):
    """A ranked article with its reasons."""

    article: ArticleRefOut
    score: float
    reasons: list[ReasonOut]

    @classmethod
    def of(cls, suggestion: Suggestion) -> "SuggestionOut":
        """Shape a suggestion."""
        a = suggestion.article
        return cls(article=ArticleRefOut(id=a.id, title=a.title, url=a.url, systems=list(a.systems), tags=list(a.tags)),
                   score=suggestion.score, reasons=[ReasonOut.of(r) for r in suggestion.reasons])


class SuggestionsOut(BaseModel):
    """Suggestions for a user or a narrative; `mode` is `trending` when nothing personal was known."""

    subject: str
    mode: Literal["personal", "narrative", "trending"]
    suggestions: list[SuggestionOut]

    @classmethod
    def of(cls, subject: str, result: SuggestionResult) -> "SuggestionsOut":
        """Shape a result."""
        return cls(subject=subject, mode=result.mode, suggestions=[SuggestionOut.of(s) for s in result.suggestions])


class GapOut(BaseModel):
    """An active narrative no article covers well."""

    narrative_id: str
    title: str
    status: str
    size: int
    last_seen: datetime
    best_article_id: str | None
    best_score: float = Field(description="Cosine of the narrative's centroid to the best article passage.")

    @classmethod
    def of(cls, gap: Gap) -> "GapOut":
        """Shape a gap."""
        return cls(**gap.__dict__)


class GapsOut(BaseModel):
    """Knowledge-base gaps, largest narratives first."""

    threshold: float
    gaps: list[GapOut]
