"""Turning signal matches into reasons a person can read."""
from __future__ import annotations

from collections.abc import Sequence

from context_store import ArticleRecord, EventRecord
from engine.kb.passages import passages
from engine.suggestions.model import Reason
from engine.suggestions.narrative_info import NarrativeInfo
from engine.suggestions.signals import Signal
from engine.suggestions.trending import Trend
from engine.suggestions.verdicts import HelpedElsewhere


def _passage(article: ArticleRecord, number: int) -> str:
    parts = passages(article.title, article.body)
    text = parts[number] if 0 <= number < len(parts) else article.title
    return text if len(text) <= 200 else text[:197] + "..."


def _headline(event: EventRecord) -> str:
    text = event.title or event.text
    return text if len(text) <= 80 else text[:77] + "..."


def relevance_reason(signal: Signal, column: int, article: ArticleRecord, events: Sequence[EventRecord],
                     narratives: Sequence[NarrativeInfo], trends: Sequence[Trend], gate: float = 1.0) -> Reason:
    """Why one relevance signal scored this article: which source matched which passage."""
    score = round(float(signal.raw[column]), 4)
    source = int(signal.source[column])
    passage = _passage(article, int(signal.passage[column]))
    if signal.name == "history":
        event = events[source]
        return Reason("history", score, f"close to your report {event.id!r} ({_headline(event)})",
                      event_id=event.id, passage=passage)
    if signal.name == "narrative":
        narrative = narratives[source]
        return Reason("narrative", score, f"fits the open problem {narrative.id} you are part of "
                      f"({len(narrative.seqs)} reports)", narrative_id=narrative.id, passage=passage)
    if signal.name == "trending":
        trend = trends[source]
        return Reason("trending", score, f"fits {trend.narrative.id}, trending on your systems "
                      f"({trend.recent_reports} reports in 3 days)", narrative_id=trend.narrative.id, passage=passage)
    if signal.name == "subject":
        narrative = narratives[source]
        return Reason("narrative", score, f"fits narrative {narrative.id}", narrative_id=narrative.id, passage=passage)
    if gate >= 1.0:
        return Reason("text", score, "matches your question", passage=passage)
    return Reason("text", score, f"matches your question, which is vague (it counts {gate:.0%}; your reports "
                  "and open problems decide the rest)", passage=passage)


def systems_reason(shared: Sequence[str], boost: float) -> Reason:
    """The article covers systems the user works with."""
    return Reason("systems", round(boost, 4), f"about {', '.join(shared)}, which you use", systems=tuple(shared))


def verdict_reason(verdict: str, factor: float) -> Reason:
    """The user's own verdict demoted the article."""
    summary = {"not_helpful": "you marked it not helpful (listed after the others)", "helpful": "it helped you before (already seen)",
               "seen": "you have already seen it"}[verdict]
    return Reason("not_helpful" if verdict == "not_helpful" else "seen", round(factor, 4), summary)


def helped_reason(helped: HelpedElsewhere, bonus: float) -> Reason:
    """Others found it helpful with a similar narrative."""
    people = "1 person" if helped.users == 1 else f"{helped.users} people"
    return Reason("helped_similar", round(bonus, 4), f"helped {people} with a similar problem ({helped.narrative_id}, "
                  f"similarity {helped.similarity:.2f})", narrative_id=helped.narrative_id)
