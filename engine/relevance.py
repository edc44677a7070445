"""Hybrid relevance: semantic (MiniLM cosine) fused with lexical (FTS5 BM25), plus context.

For a query (an event or a free text) the candidates are the union of the best
`candidates` events of each index. Each candidate gets

    text_score = w_semantic * cosine + w_lexical * bm25 / max_bm25_over_candidates
    score      = text_score * (1 + same_user_boost * same_user + systems_boost * shared_share)

Context multiplies, it never adds: a pair with no textual affinity is never lifted by
context alone. The weights were chosen on the gitbugs/hadoop dev set by
`hypercorr eval retrieval` (see README, "Relevance").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from context_store import ContextStore, EventFilter, EventRecord
from engine import text as textprep


@dataclass(frozen=True)
class RelevanceWeights:
    """The documented constants of the fusion."""

    semantic: float = 0.5
    lexical: float = 0.5
    candidates: int = 100
    max_query_terms: int = 32
    title_weight: float = 2.0
    body_weight: float = 1.0
    same_user_boost: float = 0.15
    systems_boost: float = 0.15
    shared_terms_shown: int = 8


@dataclass(frozen=True)
class Query:
    """What related-report search starts from."""

    text: str
    vector: np.ndarray
    user_id: str | None = None
    systems: tuple[str, ...] = ()
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class Evidence:
    """Why a candidate is related: each signal on its own."""

    semantic: float
    lexical: float
    shared_terms: list[str]
    same_user: bool
    shared_systems: list[str]
    time_gap_hours: float | None
    text_score: float
    context_boost: float


@dataclass(frozen=True)
class RelatedHit:
    """One related event with its fused score and its evidence."""

    event: EventRecord
    score: float
    evidence: Evidence


class HybridRanker:
    """Ranks stored events against a query with the hybrid formula above."""

    def __init__(self, store: ContextStore, weights: RelevanceWeights | None = None):
        self.store = store
        self.weights = weights or RelevanceWeights()

    def rank(self, query: Query, k: int, event_filter: EventFilter | None = None) -> list[RelatedHit]:
        """The top-k related events, best first."""
        w = self.weights
        pool = max(w.candidates, k)
        terms = textprep.select_query_terms(query.text, w.max_query_terms, self.store.document_frequencies,
                                            self.store.count())
        lexical = {h.seq: h.score for h in self.store.lexical_search(
            terms, pool, event_filter, (w.title_weight, w.body_weight))}
        semantic = {h.seq: h.score for h in self.store.vector_search(query.vector, pool, event_filter)}
        seqs = list(dict.fromkeys([*semantic, *lexical]))
        if not seqs:
            return []
        missing = [s for s in seqs if s not in semantic]
        if missing:  # cosine for lexical-only candidates, from the stored vectors
            cosines = self.store.get_vectors(missing) @ np.asarray(query.vector, dtype=np.float32)
            semantic.update(zip(missing, (float(c) for c in cosines)))
        top_lexical = max(lexical.values(), default=0.0) or 1.0
        scored = sorted(((w.semantic * semantic[s] + w.lexical * lexical.get(s, 0.0) / top_lexical, s)
                         for s in seqs), reverse=True)[: max(3 * k, 30)]
        records = self.store.get_events([seq for _, seq in scored])
        reranked = sorted(((text_score * (1.0 + self._context_boost(query, records[seq])), text_score, seq)
                           for text_score, seq in scored if seq in records), reverse=True)[:k]
        return [self._explain(query, records[seq], score, text_score, semantic[seq],
                              lexical.get(seq, 0.0) / top_lexical, terms)
                for score, text_score, seq in reranked]

    def _shared_context(self, query: Query, record: EventRecord) -> tuple[bool, list[str], float]:
        same_user = bool(query.user_id) and record.user_id == query.user_id
        shared = [s for s in record.systems if s in query.systems]
        shared_share = len(shared) / max(1, len(set(query.systems) | set(record.systems)))
        return same_user, shared, shared_share

    def _context_boost(self, query: Query, record: EventRecord) -> float:
        same_user, _, shared_share = self._shared_context(query, record)
        return self.weights.same_user_boost * same_user + self.weights.systems_boost * shared_share

    def _explain(self, query: Query, record: EventRecord, score: float, text_score: float, cosine: float,
                 lexical: float, query_terms: list[str]) -> RelatedHit:
        same_user, shared, _ = self._shared_context(query, record)
        gap = None
        if query.occurred_at is not None:
            gap = round((record.occurred_at - query.occurred_at).total_seconds() / 3600.0, 2)
        candidate_terms = set(textprep.content_terms(f"{record.title} {record.text}"))
        shared_terms = [t for t in query_terms if t in candidate_terms][: self.weights.shared_terms_shown]
        evidence = Evidence(semantic=round(cosine, 4), lexical=round(lexical, 4), shared_terms=shared_terms,
                            same_user=same_user, shared_systems=shared, time_gap_hours=gap,
                            text_score=round(text_score, 4),
                            context_boost=round(self._context_boost(query, record), 4))
        return RelatedHit(event=record, score=round(score, 6), evidence=evidence)
