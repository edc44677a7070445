"""Hybrid relevance: semantic (MiniLM) fused with lexical (BM25), then context.

For a query (a stored event, or a free text) the candidates are the union of the best
`candidates` events of the vector index and of the lexical index. For each candidate:

    semantic   = (1 - title_share) * cos(full, full) + title_share * cos(title, title)
    lexical    = min(1, bm25 / bm25_self)     (stored event: its own BM25 is the scale)
               = bm25 / max bm25              (free text: the best candidate is the scale)
    w          = w_short - (w_short - w_long) * min(1, query_terms / full_terms)
    text_score = w * semantic + (1 - w) * lexical
    score      = text_score * (1 + same_user_boost * same_user + systems_boost * shared_share
                                 + topology_boost / hops)
                 + recency * exp(-|gap days| / recency_days)

`hops` counts the service-topology edges between the query's systems and the candidate's, up or
down the dependency chain (at most `topology_max_hops`; siblings sharing a dependency are not
related), when they share no system and are at most
`topology_window_hours` apart (a report on a front end, an alert on the database it depends on).

The lexical query is the report's `max_query_terms` rarest terms; beyond its `full_terms` rarest,
terms found in more than `common_share` of the stored events are left out (they add little to
BM25 and cost the most to read). Short queries lean on meaning (the lexical side has little to go
on); long, identifier-heavy reports lean on words. Context multiplies text relevance, so it never links on its own; time
proximity is a small additive prior. The constants were chosen on the gitbugs/hadoop dev set
(with a banking77 check that conversational text is not hurt): see README "Relevance".
"""
from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from datetime import datetime

import numpy as np

from context_store import ContextStore, EventContext, EventFilter, EventRecord
from engine import text as textprep
from engine.ops.topology import describe_path, related_systems


@dataclass(frozen=True)
class RelevanceWeights:
    """The documented constants of the fusion."""

    semantic_long: float = 0.6
    semantic_short: float = 1.0
    full_terms: int = 15
    title_share: float = 0.5
    candidates: int = 50  # per side; at least k
    max_query_terms: int = 48
    common_share: float = 0.2  # beyond `full_terms`, query terms in more than this share of events are left out
    common_floor: int = 50  # ... once that share is more than this many events
    title_weight: float = 2.0
    body_weight: float = 1.0
    recency: float = 0.2
    recency_days: float = 180.0
    same_user_boost: float = 0.15
    systems_boost: float = 0.15
    shared_terms_shown: int = 8
    topology_boost: float = 0.10  # modest: below shared systems, and it only multiplies text relevance
    topology_max_hops: int = 2
    topology_window_hours: float = 12.0


@dataclass(frozen=True)
class Query:
    """What related-report search starts from."""

    text: str
    vector: np.ndarray
    title_vector: np.ndarray | None = None
    seq: int | None = None  # set when the query is a stored event
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
    time_proximity: float
    topology_path: str | None = None  # "web -> api -> db" ('->' reads 'depends on') when topology counted


@dataclass(frozen=True)
class RelatedHit:
    """One related event with its fused score and its evidence."""

    event: EventRecord
    score: float
    evidence: Evidence


class _Signals(NamedTuple):
    same_user: bool
    shared_systems: list[str]
    boost: float
    proximity: float
    topology_path: str | None = None


@dataclass(frozen=True)
class _Scored:
    seq: int
    semantic: float
    lexical: float
    text_score: float


class HybridRanker:
    """Ranks stored events against a query with the formula in the module docstring."""

    def __init__(self, store: ContextStore, weights: RelevanceWeights | None = None):
        self.store = store
        self.weights = weights or RelevanceWeights()
        store.prepare_lexical((self.weights.title_weight, self.weights.body_weight))

    def rank(self, query: Query, k: int, event_filter: EventFilter | None = None) -> list[RelatedHit]:
        """The top-k related events, best first.

        Every candidate can get a final score; candidates are visited by text score, and the
        visit stops once even the largest context boost and time prior could not lift the next
        one into the top k (so the answer is exact, and the same whatever k is asked for).
        """
        w = self.weights
        words = textprep.content_words(query.text)
        min_df = 2 if query.seq is not None else 1  # a stored query counts itself
        max_df = max(w.common_floor, int(w.common_share * self.store.count())) if w.common_share < 1 else None
        terms = textprep.rarest_terms(textprep.distinct_stems(words), w.max_query_terms,
                                      self.store.document_frequencies, min_df, max_df, w.full_terms)
        candidates = self._text_scores(query, terms, max(w.candidates, k), event_filter)
        contexts = self.store.get_contexts([c.seq for c in candidates])
        ceiling = 1.0 + w.same_user_boost * bool(query.user_id) + w.systems_boost * bool(query.systems) \
            + w.topology_boost * bool(query.systems and len(self.store.operations.dependencies))
        prior = w.recency if query.occurred_at is not None else 0.0
        signals = self._context(query)
        best: list[tuple[float, int, _Scored, _Signals]] = []  # a min-heap of (score, -seq, candidate, context)
        for c in sorted(candidates, key=lambda c: -c.text_score):
            if len(best) == k and c.text_score * (ceiling if c.text_score > 0 else 1.0) + prior < best[0][0]:
                break
            if c.seq in contexts:
                context = signals(contexts[c.seq])
                entry = (c.text_score * (1.0 + context.boost) + context.proximity, -c.seq, c, context)
                if len(best) < k:
                    heapq.heappush(best, entry)
                elif entry[:2] > best[0][:2]:
                    heapq.heapreplace(best, entry)
        final = sorted(best, key=lambda e: (-e[0], -e[1]))
        records = self.store.get_events([c.seq for _, _, c, _ in final])
        shared = self.store.terms_contained(terms, [c.seq for _, _, c, _ in final])
        forms = textprep.forms_of_words(words) if final else {}
        return [self._explain(query, records[c.seq], score, c, context, [forms.get(t, t) for t in shared[c.seq]])
                for score, _, c, context in final if c.seq in records]

    def _text_scores(self, query: Query, terms: list[str], pool: int,
                     event_filter: EventFilter | None) -> list[_Scored]:
        w = self.weights
        columns = (w.title_weight, w.body_weight)
        lexical = {h.seq: h.score for h in self.store.lexical_search(terms, pool, event_filter, columns)}
        nearest = [h.seq for h in self.store.vector_search(query.vector, pool, event_filter)]
        seqs = list(dict.fromkeys([*nearest, *lexical]))
        if not seqs:
            return []
        full = self.store.get_vectors(seqs) @ np.asarray(query.vector, dtype=np.float32)
        query_title = query.vector if query.title_vector is None else query.title_vector
        titles = self.store.get_title_vectors(seqs) @ np.asarray(query_title, dtype=np.float32)
        semantic = (1.0 - w.title_share) * full + w.title_share * titles
        scale = self.store.lexical_self_score(terms, query.seq, columns) if query.seq is not None else 0.0
        scale = scale or max(lexical.values(), default=0.0) or 1.0
        weight = w.semantic_short - (w.semantic_short - w.semantic_long) * min(1.0, len(terms) / w.full_terms)
        lex = np.minimum(1.0, np.array([lexical.get(seq, 0.0) for seq in seqs]) / scale)
        text = weight * semantic + (1.0 - weight) * lex
        return [_Scored(seq, sem, lx, tx) for seq, sem, lx, tx in
                zip(seqs, semantic.tolist(), lex.tolist(), text.tolist())]

    def _context(self, query: Query) -> Callable[[EventContext | EventRecord], _Signals]:
        """The context signals of a candidate for one query (the query's side worked out once)."""
        w = self.weights
        systems = set(query.systems)
        moment = query.occurred_at.timestamp() if query.occurred_at is not None else None
        scale = 86_400.0 * w.recency_days
        graph = self.store.operations.dependencies
        near = related_systems(graph, systems, w.topology_max_hops) if systems and len(graph) else {}

        def signals(candidate: EventContext | EventRecord) -> _Signals:
            same_user = bool(query.user_id) and candidate.user_id == query.user_id
            shared = [s for s in candidate.systems if s in systems] if systems else []
            boost = w.same_user_boost * same_user
            if shared:
                boost += w.systems_boost * len(shared) / len(systems.union(candidate.systems))
            gap = None if moment is None else abs(candidate.occurred_at.timestamp() - moment)
            proximity = 0.0 if gap is None else w.recency * math.exp(-gap / scale)
            path = None
            if near and not shared and (gap is None or gap <= 3600.0 * w.topology_window_hours):
                path = min((near[s] for s in candidate.systems if s in near), key=len, default=None)
                if path is not None:
                    boost += w.topology_boost / (len(path) - 1)
            return _Signals(same_user, shared, boost, proximity,
                            describe_path(graph, path) if path else None)
        return signals

    def _explain(self, query: Query, record: EventRecord, score: float, scored: _Scored, context: _Signals,
                 shared_terms: list[str]) -> RelatedHit:
        same_user, shared, boost, proximity, topology_path = context
        gap = None
        if query.occurred_at is not None:
            gap = round((record.occurred_at - query.occurred_at).total_seconds() / 3600.0, 2)
        evidence = Evidence(semantic=round(scored.semantic, 4), lexical=round(scored.lexical, 4),
                            shared_terms=shared_terms[: self.weights.shared_terms_shown],
                            same_user=same_user, shared_systems=shared,
                            time_gap_hours=gap, text_score=round(scored.text_score, 4),
                            context_boost=round(boost, 4), time_proximity=round(proximity, 4),
                            topology_path=topology_path)
        return RelatedHit(event=record, score=round(score, 6), evidence=evidence)
