"""Exact BM25 top-k over weighted posting lists with MaxScore pruning (behind `TermIndex.search`).

Lists are read rarest first, each in full, until the most the remaining lists could add together
(the sum of their exact largest weights) falls below the current k-th best score: no event that
only they match can then enter the top k. For the remaining (common) terms, the `2 * depth` best
partial scores are completed first, so the k-th best of their final scores is a high threshold at
once; the other events are completed only while they can still reach it: when they are many, by one
pass over each list (a mask marks them), else by looking each up in it. Only totals above the
threshold so far are ever partitioned to find a k-th best.
"""
from __future__ import annotations

from collections.abc import Sequence
from types import ModuleType

import numpy as np

from context_store import lazy_kernels
from context_store.decoded_postings import Weighted
from context_store.records import ScoredSeq

LOOKUP_COST = 32  # a lookup of one event in a list costs about this many postings scanned


class Scratch:
    """Per-seq running totals (zero between queries) and the buffer of touched seqs, reused."""

    def __init__(self) -> None:
        self.totals = np.zeros(0)
        self.touched = np.zeros(0, dtype=np.int64)
        self.marked = np.zeros(0, dtype=bool)

    def sized(self, seqs: int) -> "Scratch":
        """Itself, grown to hold `seqs` seqs."""
        if len(self.totals) < seqs:
            self.totals = np.zeros(seqs)
            self.touched = np.zeros(seqs, dtype=np.int64)
            self.marked = np.zeros(seqs, dtype=bool)
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
                                depth, threshold, totals, scratch.marked)
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
              depth: int, threshold: float, totals: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """Add the remaining lists' weights for the events that can still enter the top k; returns
    the events whose totals are then complete (no other event can reach the top k).

    The `2 * depth` best partial totals are completed first, for a high threshold. The others that
    can still reach it are completed list by list, dropping those that fall out of reach: a list
    is scanned once for the marked events when they are many, else each is looked up in it."""
    lead = kernels.largest(totals, touched, len(touched), 2 * depth, threshold)
    for weighted, idf in zip(lists, idfs):
        kernels.add_looked_up(totals, lead, len(lead), weighted.seqs, weighted.impacts, idf)
    if len(lead) == len(touched):
        return lead
    threshold = kernels.kth_largest(totals, lead, len(lead), depth, threshold)
    others = kernels.survivors(totals, touched, len(touched), rest[0], threshold, lead, marked)
    count, ascending = len(others), False
    try:
        for j, (weighted, idf) in enumerate(zip(lists, idfs)):
            count = kernels.drop_below(totals, others, count, rest[j], threshold, marked)
            if not count:
                break
            if count * LOOKUP_COST >= len(weighted.seqs):
                kernels.add_marked(totals, marked, weighted.seqs, weighted.impacts, idf)
            else:
                if not ascending:
                    others[:count].sort()
                    ascending = True
                kernels.add_looked_up(totals, others, count, weighted.seqs, weighted.impacts, idf)
    finally:
        kernels.unmark(marked, others, count)
    return np.concatenate((lead, others[:count]))
