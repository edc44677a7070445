"""What a suggestion is: an article, its score, and the reasons behind the score."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from context_store import ArticleRecord


@dataclass(frozen=True)
class Reason:
    """One signal's part in a suggestion.

    signal: text | history | narrative | trending (relevance), systems (boost),
    helped_similar (others found it helpful with a similar narrative), seen | not_helpful (demotions).
    `score` is the signal's cosine (relevance signals), the boost added, or the factor applied.
    """

    signal: str
    score: float
    summary: str
    event_id: str | None = None
    narrative_id: str | None = None
    passage: str | None = None
    systems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Suggestion:
    """An article ranked for someone, with why."""

    article: ArticleRecord
    score: float
    reasons: list[Reason] = field(default_factory=list)


@dataclass(frozen=True)
class SuggestionResult:
    """Ranked suggestions; `mode` is `trending` when nothing personal was known (the fallback)."""

    suggestions: list[Suggestion]
    mode: Literal["personal", "narrative", "trending"]


@dataclass(frozen=True)
class SuggestionWeights:
    """How the signals combine (engine/suggestions/combine.py; README "Knowledge-base suggestions" says
    where they were measured).

    relevance = see combine.py (text gate, context boost)
    score     = relevance * (1 + systems_boost * shared-systems share) * verdict factor + helped bonus
    """

    history: float = 1.0
    narrative: float = 0.25
    context_boost: float = 1.0
    text_floor: float = 0.5
    text_full: float = 0.7
    systems_boost: float = 0.15
    seen_factor: float = 0.75
    not_helpful_factor: float = 0.4
    helped_bonus: float = 0.15
    helped_min_similarity: float = 0.5
