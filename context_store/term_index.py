"""In-memory BM25 over per-event term counts: the lexical side of related-report search.

Each event contributes, per term, its count in the title and in the body, and its length (all
tokens, stopwords included). A query is an OR of terms; an event's score is Okapi BM25 with
column-weighted term frequency, the formula SQLite FTS5's `bm25()` uses:

    idf(t)   = max(1e-6, ln((N - n_t + 0.5) / (n_t + 0.5)))
    tf(t, d) = w_title * count_title + w_body * count_body
    score    = sum_t idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl))

with k1 = 1.2, b = 0.75, N the number of events and avgdl their mean length. IDF and avgdl are
read at query time over what is stored now, so nothing is refitted as reports arrive.

Postings are one growable `array('q')` per term, each entry `seq << 32 | title << 16 | body`,
in ascending seq order, so a query touches only the postings of its terms (numpy, no Python loop
per event). Long lists are also kept decoded (`decoded_postings.py`), and top-k uses MaxScore
pruning (see `search`). The durable copy lives in SQLite (see `lexical_index.py`).
"""
from __future__ import annotations

import math
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np

from context_store.analysis import LexicalTerms
from context_store.decoded_postings import MAX_COUNT, Decoded, DecodedPostings
from context_store.records import ScoredSeq

K1 = 1.2
B = 0.75


def pack(seq: int, title_count: int, body_count: int) -> int:
    """One posting entry."""
    return (seq << 32) | (min(title_count, MAX_COUNT) << 16) | min(body_count, MAX_COUNT)


class TermIndex:
    """Postings, document lengths and BM25 queries (the caller serialises access)."""

    def __init__(self) -> None:
        self._postings: dict[str, array] = {}
        self._term_stats: dict[str, list[float]] = {}  # term -> [max title, max body, min length], lazily
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
            stats = self._term_stats.get(term)
            if stats is not None:  # keep the bound an upper bound
                stats[0], stats[1] = max(stats[0], title_count), max(stats[1], body_count)
                stats[2] = min(stats[2], terms.length)

    def load(self, postings: dict[str, array], lengths: Mapping[int, int]) -> None:
        """Replace the contents with prebuilt postings (ascending seqs) and document lengths."""
        self._postings = postings
        self._term_stats = {}
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
                self._term_stats.pop(term, None)
                emptied.append(term)
            self._decoded.forget(term)
        return emptied

    # ---- reads --------------------------------------------------------------------
    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many events contain each term (0 when none)."""
        return {t: len(self._postings.get(t, ())) for t in terms}

    def _mean_length(self) -> float:
        return self._total_length / self.documents if self.documents and self._total_length else 1.0

    def _contribution(self, decoded: Decoded, idf: float) -> np.ndarray:
        """idf times the BM25 term-frequency part, for each entry of a decoded list."""
        norm = K1 * (1.0 - B) + (K1 * B / self._mean_length()) * decoded.lengths
        return (idf * (K1 + 1.0)) * decoded.tf / (decoded.tf + norm)

    def _bound(self, term: str, packed: np.ndarray, weights: tuple[float, float]) -> float:
        """The most one event can get from `term` (before IDF): its largest counts, shortest length."""
        stats = self._term_stats.get(term)
        if stats is None:
            stats = self._term_stats[term] = [int(((packed >> 16) & MAX_COUNT).max()),
                                              int((packed & MAX_COUNT).max()),
                                              float(self._lengths[packed >> 32].min())]
        tf = weights[0] * stats[0] + weights[1] * stats[1]
        return tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * stats[2] / self._mean_length()))

    def search(self, terms: Sequence[str], k: int, allowed: np.ndarray | None = None,
               exclude: Iterable[int] = (), weights: tuple[float, float] = (1.0, 1.0)) -> list[ScoredSeq]:
        """The k best events matching any of `terms`, best first (ties: lower seq first).

        Exact top-k with MaxScore pruning. Terms are read rarest first, each in full, until the
        most the remaining terms could add together (their per-term bounds) falls below the
        current k-th best score: no event they alone match can then enter the top k. The
        remaining terms are looked up (binary search) only for the events still in the running,
        which shrink as the bound of what is left shrinks.
        """
        named = [t for t in dict.fromkeys(terms) if self._postings.get(t)]
        if k <= 0 or not named:
            return []
        named.sort(key=lambda t: len(self._postings[t]))
        lists = [np.frombuffer(self._postings[t], dtype=np.int64) for t in named]
        idfs = [self._idf(len(p)) for p in lists]
        ceilings = [i * self._bound(t, p, weights) for t, p, i in zip(named, lists, idfs)]
        rest = np.append(np.cumsum(ceilings[::-1])[::-1], 0.0)  # rest[i]: the most terms i.. can add
        exclude = [s for s in exclude if 0 <= s < len(self._lengths)]
        keep = None if allowed is None else self._admissible(allowed, exclude)
        depth = k if keep is not None else k + len(exclude)  # excluded events may sit in the top k
        totals = np.zeros(len(self._lengths))
        best, threshold, position = 0.0, 0.0, len(lists)
        for i, (term, packed) in enumerate(zip(named, lists)):
            if i and rest[i] < threshold:
                position = i
                break
            decoded = self._decoded.get(term, packed, self._lengths, weights)
            if keep is not None:
                decoded = decoded.select(keep[decoded.seqs])
            updated = totals[decoded.seqs] + self._contribution(decoded, idfs[i])
            totals[decoded.seqs] = updated
            best = max(best, float(updated.max(initial=0.0)))
            if rest[i + 1] < best:  # pruning may be possible: raise the k-th best so far (a lower
                threshold = self._kth(updated, depth, threshold)  # bound, read over this term's events)
        running = None
        if position < len(lists):
            running = np.flatnonzero(totals > 0)
            for j in range(position, len(lists)):
                running = running[totals[running] + rest[j] >= threshold]
                if not len(running):
                    break
                decoded = self._decoded.get(named[j], lists[j], self._lengths, weights)
                if 4 * len(running) > len(decoded.seqs):  # cheaper to read the whole list (events out
                    if keep is not None:  # of the running only gain a partial score they cannot win with)
                        decoded = decoded.select(keep[decoded.seqs])
                    totals[decoded.seqs] += self._contribution(decoded, idfs[j])
                else:
                    at = np.minimum(np.searchsorted(decoded.seqs, running), len(decoded.seqs) - 1)
                    found = decoded.seqs[at] == running
                    totals[running[found]] += self._contribution(decoded.select(at[found]), idfs[j])
                threshold = self._kth(totals[running], depth, threshold)
        totals[exclude] = 0.0
        if running is not None and len(running) >= depth:  # the top k never leave the running
            matched = running[totals[running] > 0]
        else:
            matched = np.flatnonzero(totals > 0)
        if len(matched) > k:  # keep every event tied with the k-th, so ties break by seq below
            matched = matched[totals[matched] >= self._kth(totals[matched], k, 0.0)]
        order = np.lexsort((matched, -totals[matched]))[:k]
        return [ScoredSeq(int(s), float(totals[s])) for s in matched[order]]

    @staticmethod
    def _kth(scores: np.ndarray, k: int, floor: float) -> float:
        """The k-th largest of `scores` (or `floor` when there are fewer, or it is lower)."""
        if len(scores) < k:
            return floor
        return max(floor, float(np.partition(scores, len(scores) - k)[len(scores) - k]))

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
        norm = K1 * (1.0 - B + B * float(self._lengths[seq]) / self._mean_length())
        total = 0.0
        for term, entry, hits in self._entries_of(terms, seq):
            tf = weights[0] * ((entry >> 16) & MAX_COUNT) + weights[1] * (entry & MAX_COUNT)
            total += self._idf(hits) * tf * (K1 + 1.0) / (tf + norm)
        return total

    def _entries_of(self, terms: Iterable[str], seq: int) -> Iterator[tuple[str, int, int]]:
        """(term, packed entry, list length) for each of `terms` that event `seq` contains."""
        for term in dict.fromkeys(terms):
            postings = self._postings.get(term)
            if postings:
                packed = np.frombuffer(postings, dtype=np.int64)
                at = int(np.searchsorted(packed, seq << 32))  # entries sort by seq first
                if at < len(packed) and int(packed[at]) >> 32 == seq:
                    yield term, int(packed[at]), len(packed)
