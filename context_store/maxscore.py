"""Exact BM25 top-k over weighted posting lists with MaxScore pruning (behind `TermIndex.search`).

Lists are read rarest first, each in full, until the most the remaining lists could add together
(the sum of their exact largest weights) falls below the current k-th best score: no event that
only they match can then enter the top k. For the remaining (common) terms, the `2 * depth` best
partial scores are completed first, so the k-th best of their final scores is a high threshold at
once; the other events are completed only while they can still reach it.
"""
from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np

from context_store import lazy_kernels
from context_store.decoded_postings import Weighted
from context_store.records import ScoredSeq


class Scratch:
    """Per-seq running totals (zero between queries) and the buffer of touched seqs, reused."""

    def __init__(self) -> None:
        self.totals = np.zeros(0)
        self.touched = np.zeros(0, dtype=np.int64)

    def sized(self, seqs: int) -> "Scratch":
        """Itself, grown to hold `seqs` seqs."""
        if len(self.totals) < seqs:
            self.totals = np.zeros(seqs)
            self.touched = np.zeros(seqs, dtype=np.int64)
        return self


def top_k(lists: Sequence[Weighted], idfs: Sequence[float], keep: np.ndarray, depth: int,
          exclude: Sequence[int], k: int, scratch: Scratch) -> list[ScoredSeq]:
    """The k best events (ties: lower seq first) over `lists` sorted rarest first.

    `keep` (when not empty) marks the events a query may return; `exclude` are never returned,
    and `depth` (k, plus the excluded when they are not masked out by `keep`) is how deep the
    pruning threshold must look.
    """
    kernels = lazy_kernels.loaded()
    ceilings = [idf * w.peak for w, idf in zip(lists, idfs)]
    rest = np.append(np.cumsum(ceilings[::-1])[::-1], 0.0)  # rest[i]: the most lists i.. can add
    totals, touched = scratch.totals, scratch.touched
    best, threshold, position, count = 0.0, 0.0, len(lists), 0
    try:
        for i, weighted in enumerate(lists):
            if i and rest[i] < threshold:
                position = i
                break
            top, count = kernels.accumulate(totals, weighted.seqs, weighted.impacts, idfs[i], keep, touched, count)
            best = max(best, top)
            if rest[i + 1] < best:  # pruning may be possible: raise the k-th best so far (a lower bound,
                threshold = kernels.kth_largest(totals, weighted.seqs, len(weighted.seqs), depth,  # read over
                                                threshold)  # this list's events)
        if position < len(lists) and count:
            matched = _complete(kernels, lists[position:], idfs[position:], rest[position:], touched[:count],
                                depth, threshold, totals)
        else:
            matched = touched[:count].copy()
        totals[list(exclude)] = 0.0
        matched = matched[totals[matched] > 0]
        if len(matched) > k:  # keep every event tied with the k-th, so ties break by seq below
            matched = matched[totals[matched] >= kernels.kth_largest(totals, matched, len(matched), k, 0.0)]
        top_seqs = matched[np.lexsort((matched, -totals[matched]))[:k]]
        return [ScoredSeq(s, score) for s, score in zip(top_seqs.tolist(), totals[top_seqs].tolist())]
    finally:
        kernels.reset(totals, touched, count)


def _complete(kernels: ModuleType, lists: Sequence[Weighted], idfs: Sequence[float], rest: np.ndarray, touched: np.ndarray,
              depth: int, threshold: float, totals: np.ndarray) -> np.ndarray:
    """Add the remaining lists' weights for the events that can still enter the top k; returns
    the events whose totals are then complete (no other event can reach the top k)."""
    lead = kernels.largest(totals, touched, len(touched), 2 * depth)
    for weighted, idf in zip(lists, idfs):
        kernels.refine(totals, lead, len(lead), weighted.seqs, weighted.impacts, idf, 0.0, -np.inf)
    if len(lead) == len(touched):
        return lead
    threshold = kernels.kth_largest(totals, lead, len(lead), depth, threshold)
    others = kernels.survivors(totals, touched, len(touched), rest[0], threshold, lead)
    count = len(others)
    for j, (weighted, idf) in enumerate(zip(lists, idfs)):
        if not count:
            break
        count = kernels.refine(totals, others, count, weighted.seqs, weighted.impacts, idf, rest[j], threshold)
    return np.concatenate((lead, others[:count]))
