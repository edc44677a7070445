"""Posting lists decoded into BM25 term weights, kept between queries.

A packed posting list (`seq << 32 | title << 16 | body`) must be unpacked, weighted by column and
normalised by each event's length before BM25 can score it. The result, per entry, is the term's
BM25 weight before IDF,

    impact = tf * (k1 + 1) / (tf + k1 * (1 - b + b * |d| / avgdl)),

and its largest value is the term's exact upper bound for pruning. For lists of `CACHED_FROM`
entries or more this work is done once and kept: it stays valid while the column weights and the
(rounded, see `term_index.rounded_mean_length`) mean length stay the same; entries appended later
are weighted on the next read, and a removal drops the term's entry.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MAX_COUNT = 0xFFFF  # per-column counts are stored in 16 bits
CACHED_FROM = 8  # shorter lists are cheap to weigh on every query
K1 = 1.2
B = 0.75


@dataclass(frozen=True)
class Weighted:
    """A posting list as parallel arrays: seqs (ascending) and each event's BM25 weight before IDF."""

    seqs: np.ndarray
    impacts: np.ndarray
    peak: float  # the largest impact (0 for an empty list)
    weights: tuple[float, float]
    mean_length: float


def weigh(packed: np.ndarray, lengths: np.ndarray, weights: tuple[float, float], mean_length: float) -> Weighted:
    """Unpack entries into seqs and their BM25 impacts (`lengths[seq]` is each event's length)."""
    seqs = (packed >> 32).astype(np.int32)  # half the bytes a query reads; seqs stay below 2**31
    tf = weights[0] * ((packed >> 16) & MAX_COUNT) + weights[1] * (packed & MAX_COUNT)
    norm = K1 * (1.0 - B) + (K1 * B / mean_length) * lengths[seqs]
    impacts = (tf * (K1 + 1.0) / (tf + norm)).astype(np.float32)
    return Weighted(seqs, impacts, float(impacts.max(initial=0.0)), weights, mean_length)


class _Kept:
    """A kept weighted list with room to grow: appending entries costs what they cost (amortised),
    not a copy of the whole list."""

    __slots__ = ("seqs", "impacts", "size", "peak", "weights", "mean_length", "_view")

    def __init__(self, weighted: Weighted):
        self.seqs, self.impacts, self.size = weighted.seqs, weighted.impacts, len(weighted.seqs)
        self.peak, self.weights, self.mean_length = weighted.peak, weighted.weights, weighted.mean_length
        self._view: Weighted | None = weighted

    def append(self, tail: Weighted) -> None:
        """Add entries after the last (same weights and mean length)."""
        need = self.size + len(tail.seqs)
        if need > len(self.seqs):
            capacity = max(need, len(self.seqs) * 3 // 2)
            self.seqs = np.concatenate((self.seqs[:self.size], np.empty(capacity - self.size, dtype=self.seqs.dtype)))
            self.impacts = np.concatenate((self.impacts[:self.size],
                                           np.empty(capacity - self.size, dtype=self.impacts.dtype)))
        self.seqs[self.size:need], self.impacts[self.size:need] = tail.seqs, tail.impacts
        self.size, self.peak = need, max(self.peak, tail.peak)
        self._view = None

    def view(self) -> Weighted:
        """The entries so far (made once per size: most queries find a list unchanged)."""
        if self._view is None:
            self._view = Weighted(self.seqs[:self.size], self.impacts[:self.size], self.peak, self.weights,
                                  self.mean_length)
        return self._view


class DecodedPostings:
    """term -> weighted list for lists of at least `CACHED_FROM` entries (the caller serialises access)."""

    def __init__(self) -> None:
        self._entries: dict[str, _Kept] = {}

    def get(self, term: str, packed: np.ndarray, lengths: np.ndarray, weights: tuple[float, float],
            mean_length: float) -> Weighted:
        """The weighted list of `term`, whose packed entries are `packed`."""
        if len(packed) < CACHED_FROM:
            return weigh(packed, lengths, weights, mean_length)
        entry = self._entries.get(term)
        if entry is None or (entry.weights, entry.mean_length) != (weights, mean_length) or entry.size > len(packed):
            entry = self._entries[term] = _Kept(weigh(packed, lengths, weights, mean_length))
        elif entry.size < len(packed):
            entry.append(weigh(packed[entry.size:], lengths, weights, mean_length))
        return entry.view()

    def stale(self, mean_length: float) -> list[tuple[str, tuple[float, float]]]:
        """(term, weights) of the entries weighed with another mean length."""
        return [(term, entry.weights) for term, entry in self._entries.items() if entry.mean_length != mean_length]

    def forget(self, term: str) -> None:
        """Drop a term's entry (its list lost entries)."""
        self._entries.pop(term, None)

    def clear(self) -> None:
        """Drop everything."""
        self._entries.clear()
