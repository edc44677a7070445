"""Ranking knowledge-base articles for a user now, or for a narrative, with the reasons for each."""
from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from context_store import ArticleRecord, ContextStore, EventRecord
from engine.embedder import Embedder
from engine.errors import NotFoundError
from engine import text as textprep
from engine.suggestions import reasons
from engine.suggestions.combine import combine, context_relevance, text_gate
from engine.suggestions.model import Reason, Suggestion, SuggestionResult, SuggestionWeights
from engine.suggestions.narrative_info import NarrativeFacts, NarrativeInfo
from engine.suggestions.signals import Signal, best_match
from engine.suggestions.trending import Trend, trending
from engine.suggestions.user_context import UserContext, user_context
from engine.suggestions.verdicts import HelpedElsewhere, helped_elsewhere, own_verdicts

MAX_K = 100


class Suggester:
    """Combines relevance signals, context boosts and people's verdicts into ranked, explained articles."""

    def __init__(self, store: ContextStore, embedder: Embedder, weights: SuggestionWeights | None = None):
        self.store = store
        self.embedder = embedder
        self.weights = weights or SuggestionWeights()
        self.facts = NarrativeFacts(store)

    def clock(self) -> datetime:
        """The stream's clock: the latest stored event's time (now for an empty store)."""
        return self.store.latest_time() or datetime.now(timezone.utc)

    def embed_text(self, text: str) -> np.ndarray:
        """The question's vector (as free-text search embeds it)."""
        return self.embedder.embed([textprep.embedding_text("", text)])[0]

    def for_user(self, user_id: str, text: str | None = None, k: int = 5, systems: Sequence[str] = (),
                 text_vector: np.ndarray | None = None) -> SuggestionResult:
        """Articles for `user_id` now: fit to the text (if any), their recent reports and open narratives,
        boosted for their systems, demoted for what they saw or rejected; trending when nothing is known."""
        w = self.weights
        context = user_context(self.store, self.facts, user_id, self.clock(), tuple(systems))
        matrix = self.store.kb.matrix
        query = text_vector if text_vector is not None else (self.embed_text(text) if text and text.strip() else None)
        text_signal = best_match("text", matrix, query[None, :]) if query is not None else None
        history = best_match("history", matrix, context.vectors, context.recency) if context.has_history else None
        narrative = best_match("narrative", matrix, _centroids(context.narratives),
                               context.narrative_recency) if context.narratives else None
        relevance = combine(text_signal, context_relevance(history, narrative, w), w)
        parts = [s for s in (text_signal, history, narrative) if s is not None]
        trends: list[Trend] = []
        if relevance is None:
            trends = trending(self.store, self.facts, set(context.systems), context.clock)
            if trends:
                volume = np.array([t.recent_reports for t in trends], dtype=np.float32)
                parts = [best_match("trending", matrix, _centroids([t.narrative for t in trends]),
                                    0.5 + 0.5 * volume / volume.max())]
                relevance = parts[0].scores
        situation = ([query] if query is not None else []) + [n.centroid for n in context.narratives]
        ranked = self._rank(relevance, parts, k, context.systems,
                            own_verdicts(self.store.kb.feedback_of_user(user_id)),
                            np.stack(situation) if situation else np.zeros((0, matrix.dim)), user_id, context, trends)
        return SuggestionResult(ranked, "personal" if query is not None or context.has_history else "trending")

    def for_narrative(self, narrative_id: str, k: int = 5) -> SuggestionResult:
        """Articles that fit a narrative (its centroid), raised where they helped with similar narratives."""
        live = self.facts.live_id(narrative_id)
        info = self.facts.info(live, self.clock()) if live else None
        if info is None:
            raise NotFoundError("narrative", narrative_id)
        subject = best_match("subject", self.store.kb.matrix, info.centroid[None, :])
        context = UserContext(user_id="", clock=self.clock(), narratives=[info])
        ranked = self._rank(subject.scores, [subject], k, info.systems, {}, info.centroid[None, :], None, context, [])
        return SuggestionResult(ranked, "narrative")

    def best_coverage(self, info: NarrativeInfo) -> tuple[str | None, float]:
        """The article closest to a narrative's centroid, and its cosine (None, 0 for an empty base)."""
        signal = best_match("subject", self.store.kb.matrix, info.centroid[None, :])
        if not len(signal.scores):
            return None, 0.0
        best = int(np.argmax(signal.scores))
        return self.store.kb.matrix.ids[best], float(signal.scores[best])

    # ---- combination ----------------------------------------------------------------
    def _rank(self, relevance: np.ndarray | None, parts: list[Signal], k: int, systems: Counter[str], verdicts: dict[str, str],
              situation: np.ndarray, user_id: str | None, context: UserContext,
              trends: list[Trend]) -> list[Suggestion]:
        if relevance is None:
            return []
        w = self.weights
        ids = self.store.kb.matrix.ids
        articles = self.store.kb.all()
        factor = np.ones(len(ids), dtype=np.float32)
        bonus = np.zeros(len(ids), dtype=np.float32)
        helped = helped_elsewhere(self.store.kb, self.facts, situation, context.clock, user_id, w.helped_min_similarity)
        for j, article_id in enumerate(ids):
            article = articles.get(article_id)
            if article is None:
                continue
            factor[j] = self._factor(article, systems, verdicts.get(article_id))
            if article_id in helped:
                bonus[j] = w.helped_bonus * helped[article_id].similarity
        scores = relevance * factor + bonus
        rejected = [verdicts.get(a) == "not_helpful" for a in ids]  # after every article not rejected
        order = sorted(range(len(ids)), key=lambda j: (rejected[j], -float(scores[j]), ids[j]))[:max(1, min(k, MAX_K))]
        return [Suggestion(articles[ids[j]], round(float(scores[j]), 4),
                           self._reasons(j, articles[ids[j]], parts, systems, verdicts, helped, context, trends))
                for j in order if ids[j] in articles]

    def _shared_systems(self, article: ArticleRecord, systems: Counter[str]) -> list[str]:
        return [s for s in article.systems if s in systems]

    def _factor(self, article: ArticleRecord, systems: Counter[str], verdict: str | None) -> float:
        w = self.weights
        factor = 1.0
        if article.systems:
            factor += w.systems_boost * len(self._shared_systems(article, systems)) / len(article.systems)
        if verdict == "not_helpful":
            factor *= w.not_helpful_factor
        elif verdict is not None:  # seen, or helped before: the user knows it already
            factor *= w.seen_factor
        return factor

    def _reasons(self, column: int, article: ArticleRecord, parts: list[Signal],
                 systems: Counter[str], verdicts: dict[str, str], helped: dict[str, HelpedElsewhere],
                 context: UserContext,
                 trends: list[Trend]) -> list[Reason]:
        w = self.weights
        events: list[EventRecord] = context.events
        has_context = any(s.name in ("history", "narrative") for s in parts)
        found = [reasons.relevance_reason(signal, column, article, events, context.narratives, trends,
                                          text_gate(signal, w) if signal.name == "text" and has_context else 1.0)
                 for signal in parts]
        found.sort(key=lambda r: -r.score)
        shared = self._shared_systems(article, systems)
        if shared:
            found.append(reasons.systems_reason(shared, w.systems_boost * len(shared) / len(article.systems)))
        if article.id in helped:
            found.append(reasons.helped_reason(helped[article.id], w.helped_bonus * helped[article.id].similarity))
        verdict = verdicts.get(article.id)
        if verdict is not None:
            factor = w.not_helpful_factor if verdict == "not_helpful" else w.seen_factor
            found.append(reasons.verdict_reason(verdict, factor))
        return found


def _centroids(narratives: Sequence[NarrativeInfo]) -> np.ndarray:
    return np.stack([n.centroid for n in narratives])
