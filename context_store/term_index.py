"""In-memory BM25 over per-event term counts: the lexical side of related-report search.

Each event contributes, per term, its count in the title and in the body, and its length (all
tokens, stopwords included). A query is an OR of terms; an event's score is Okapi BM25 with
column-weighted term frequency, the formula SQLite FTS5's `bm25()` uses:

    idf(t)   = max(1e-6, ln((N - n_t + 0.5) / (n_t + 0.5)))
    tf(t, d) = w_title * count_title + w_body * count_body
    score    = sum_t idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))

with k1 = 1.2, b = 0.75, N the number of events and avgdl their mean length, rounded to steps of
1/64 of an octave (1.1 %; Lucene likewise quantises document lengths). IDF and avgdl are read at
query time over what is stored now, so nothing is refitted as reports arrive, and the rounding
lets each term's weights (the part after IDF) be computed once and reused while reports arrive.

Postings are one growable `array('q')` per term, each entry `seq << 32 | title << 16 | body`,
in ascending seq order, so a query touches only the postings of its terms (numpy, no Python loop
per event). Weighted lists are kept between queries (`decoded_postings.py`), and top-k uses
MaxScore pruning with each term's exact largest weight as its bound (see `search`). The durable
copy lives in SQLite (see `lexical_index.py`).
"""
from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from context_store.analysis import LexicalTerms
from context_store import lazy_kernels, maxscore
from context_store.decoded_postings import CACHED_FROM, MAX_COUNT, DecodedPostings, weigh
from context_store.records import ScoredSeq

LENGTH_STEPS_PER_OCTAVE = 64
NO_FILTER = np.zeros(0, dtype=bool)


def rounded_mean_length(total_length: float, documents: int) -> float:
    """The mean event length BM25 uses: the exact mean rounded to 1/64 of an octave (1 when empty)."""
    if documents <= 0 or total_length <= 0:
        return 1.0
    steps = round(math.log2(total_length / documents) * LENGTH_STEPS_PER_OCTAVE)
    return 2.0 ** (steps / LENGTH_STEPS_PER_OCTAVE)


def pack(seq: int, title_count: int, body_count: int) -> int:
    """One posting entry."""
    return (seq << 32) | (min(title_count, MAX_COUNT) << 16) | min(body_count, MAX_COUNT)


class TermIndex:
    """Postings, document lengths and BM25 queries (the caller serialises access)."""

    def __init__(self) -> None:
        self._postings: dict[str, array] = {}
        self._scratch = maxscore.Scratch()
        self._prepared: tuple[float, float] | None = None
        lazy_kernels.loaded()
        self._decoded = DecodedPostings()
        self._lengths = np.zeros(1024, dtype=np.float32)
        self.documents = 0
        self._total_length = 0

    # ---- writes -------------------------------------------------------------------
    def _ensure_capacity(self, seq: int) -> None:
        if seq >= len(self._lengths):
            grown = np.zeros(max(seq + 1, len(self._lengths) * 3 // 2), dtype=np.float32)
            grown[: len(self._lengths)] = self._lengths
            self._lengths = grown

    def add(self, seq: int, terms: LexicalTerms) -> None:
        """Index one event; seqs must arrive in ascending order."""
        self._ensure_capacity(seq)
        self._lengths[seq] = terms.length
        self.documents += 1
        self._total_length += terms.length
        for term, (title_count, body_count) in terms.counts.items():
            postings = self._postings.get(term)
            if postings is None:
                postings = self._postings[term] = array("q")
            postings.append(pack(seq, title_count, body_count))

    def load(self, postings: dict[str, array], lengths: Mapping[int, int]) -> None:
        """Replace the contents with prebuilt postings (ascending seqs) and document lengths."""
        self._postings = postings
        self._decoded.clear()
        self._lengths = np.zeros(max(lengths, default=0) + 1024, dtype=np.float32)
        for seq, length in lengths.items():
            self._lengths[seq] = length
        self.documents = len(lengths)
        self._total_length = int(sum(lengths.values()))

    def remove(self, seqs: Iterable[int], terms: Iterable[str]) -> list[str]:
        """Drop events (with the terms they contain); returns the terms no event has any more."""
        doomed = np.array(sorted(set(seqs)), dtype=np.int64)
        for seq in doomed:
            if seq < len(self._lengths) and self._lengths[seq] > 0:
                self.documents -= 1
                self._total_length -= int(self._lengths[seq])
                self._lengths[seq] = 0
        emptied = []
        for term in set(terms):
            postings = self._postings.get(term)
            if postings is None:
                continue
            packed = np.frombuffer(postings, dtype=np.int64)
            kept = packed[~np.isin(packed >> 32, doomed)]
            if len(kept):
                self._postings[term] = array("q", kept.tobytes())
            else:
                del self._postings[term]
                emptied.append(term)
            self._decoded.forget(term)
        return emptied

    # ---- reads --------------------------------------------------------------------
    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many events contain each term (0 when none)."""
        return {t: len(self._postings.get(t, ())) for t in terms}

    def _mean_length(self) -> float:
        return rounded_mean_length(self._total_length, self.documents)

    def prepare(self, weights: tuple[float, float]) -> None:
        """Keep every posting list of `CACHED_FROM` entries or more weighed for `weights` from now
        on: all of them now (about 0.3 s for 4 million postings), and at each `refresh` the lists
        that grew or whose weights went stale. Otherwise the first query to use a long list pays."""
        self._prepared = weights
        self._weigh(self._postings, weights)

    def refresh(self, grown: Iterable[str] = ()) -> None:
        """After new events: weigh again the kept lists whose weights used another (rounded) mean
        length, and (once prepared) weigh the lists of `grown` terms, so the searches that follow
        do not each pay for it."""
        for term, weights in self._decoded.stale(self._mean_length()):
            self._weigh([term], weights)
        if self._prepared is not None:
            self._weigh(grown, self._prepared)

    def _weigh(self, terms: Iterable[str], weights: tuple[float, float]) -> None:
        mean_length = self._mean_length()
        for term in terms:
            postings = self._postings.get(term)
            if postings is not None and len(postings) >= CACHED_FROM:
                self._decoded.get(term, np.frombuffer(postings, dtype=np.int64), self._lengths, weights, mean_length)

    def search(self, terms: Sequence[str], k: int, allowed: np.ndarray | None = None,
               exclude: Iterable[int] = (), weights: tuple[float, float] = (1.0, 1.0)) -> list[ScoredSeq]:
        """The k best events matching any of `terms`, best first (ties: lower seq first): exact
        top-k with MaxScore pruning (`maxscore.py`). `allowed` (seqs) restricts the events that may
        be returned; `exclude` are never returned."""
        named = [t for t in dict.fromkeys(terms) if self._postings.get(t)]
        if k <= 0 or not named:
            return []
        named.sort(key=lambda t: len(self._postings[t]))
        mean_length = self._mean_length()
        lists = [self._decoded.get(t, np.frombuffer(self._postings[t], dtype=np.int64), self._lengths, weights,
                                   mean_length) for t in named]
        idfs = [self._idf(len(w.seqs)) for w in lists]
        exclude = [s for s in exclude if 0 <= s < len(self._lengths)]
        keep = NO_FILTER if allowed is None else self._admissible(allowed, exclude)
        depth = k if len(keep) else k + len(exclude)  # excluded events may sit in the top k
        return maxscore.top_k(lists, idfs, keep, depth, exclude, k, self._scratch.sized(len(self._lengths)))

    def _admissible(self, allowed: np.ndarray, exclude: list[int]) -> np.ndarray:
        """A mask over seqs of the events a filtered query may return."""
        keep = np.zeros(len(self._lengths), dtype=bool)
        keep[allowed[(allowed >= 0) & (allowed < len(self._lengths))]] = True
        keep[exclude] = False
        return keep

    def _idf(self, hits: int) -> float:
        return max(1e-6, math.log((self.documents - hits + 0.5) / (hits + 0.5)))

    def self_score(self, terms: Sequence[str], seq: int, weights: tuple[float, float] = (1.0, 1.0)) -> float:
        """BM25 of one event against an OR of `terms` (0 when it contains none)."""
        if not 0 <= seq < len(self._lengths):
            return 0.0
        return self.score_counts(seq, {term: (int(entry >> 16) & MAX_COUNT, int(entry) & MAX_COUNT)
                                       for term, entry, _ in self._entries_of(terms, seq)}, weights)

    def score_counts(self, seq: int, counts: Mapping[str, tuple[int, int]], weights: tuple[float, float]) -> float:
        """BM25 of indexed event `seq` given its (title, body) counts of the query terms it contains."""
        if not counts or not 0 <= seq < len(self._lengths) or not self._lengths[seq]:
            return 0.0
        title, body = np.array(list(counts.values()), dtype=np.int64).T
        packed = (seq << 32) | (np.minimum(title, MAX_COUNT) << 16) | np.minimum(body, MAX_COUNT)
        impacts = weigh(packed, self._lengths, weights, self._mean_length()).impacts
        hits = np.array([len(self._postings.get(term, ())) for term in counts], dtype=np.float64)
        idfs = np.maximum(1e-6, np.log((self.documents - hits + 0.5) / (hits + 0.5)))
        return float(idfs @ impacts.astype(np.float64))

    def _entries_of(self, terms: Iterable[str], seq: int) -> Iterator[tuple[str, int, int]]:
        """(term, packed entry, list length) for each of `terms` that event `seq` contains."""
        for term in dict.fromkeys(terms):
            postings = self._postings.get(term)
            if postings:
                packed = np.frombuffer(postings, dtype=np.int64)
                at = int(np.searchsorted(packed, seq << 32))  # entries sort by seq first
                if at < len(packed) and int(packed[at]) >> 32 == seq:
                    yield term, int(packed[at]), len(packed)
