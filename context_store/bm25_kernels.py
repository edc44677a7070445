"""The inner loops of BM25 top-k search, compiled with numba.

`term_index.TermIndex.search` drives them term by term; each works on one weighted posting list
(ascending seqs with their impacts, see `decoded_postings.py`) and a dense array of running
totals indexed by seq. Compiled code is cached on disk: the first process after an install or a
change of this file compiles for some seconds (`warm_up` does it when an index is created, not
on a query); later ones load it.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def accumulate(totals: np.ndarray, seqs: np.ndarray, impacts: np.ndarray, idf: float,
               keep: np.ndarray) -> float:
    """Add `idf * impact` to each listed event's total (only events `keep` marks, when it is not
    empty); returns the largest total among them."""
    best = 0.0
    filtered = len(keep) > 0
    for i in range(len(seqs)):
        seq = seqs[i]
        if filtered and not keep[seq]:
            continue
        total = totals[seq] + idf * impacts[i]
        totals[seq] = total
        if total > best:
            best = total
    return best


@njit(cache=True, nogil=True)
def kth_largest(totals: np.ndarray, seqs: np.ndarray, count: int, k: int, floor: float) -> float:
    """The k-th largest total among the first `count` of `seqs` (`floor` when fewer or lower)."""
    if count < k:
        return floor
    values = np.empty(count)
    for i in range(count):
        values[i] = totals[seqs[i]]
    kth = np.partition(values, count - k)[count - k]
    return kth if kth > floor else floor


@njit(cache=True, nogil=True)
def drop_sorted(running: np.ndarray, count: int, dropped: np.ndarray) -> int:
    """Remove from the first `count` of `running` (ascending) the seqs in `dropped` (ascending);
    returns how many are left (moved to the front)."""
    kept = 0
    at = 0
    for r in range(count):
        seq = running[r]
        while at < len(dropped) and dropped[at] < seq:
            at += 1
        if at < len(dropped) and dropped[at] == seq:
            continue
        running[kept] = seq
        kept += 1
    return kept


@njit(cache=True, nogil=True)
def refine(totals: np.ndarray, running: np.ndarray, count: int, seqs: np.ndarray, impacts: np.ndarray,
           idf: float, rest: float, threshold: float) -> int:
    """Drop from the first `count` of `running` the events that cannot reach `threshold` even with
    `rest` more, then add this term's weight to those left that contain it; returns how many are left.

    Both `running` and `seqs` ascend, so the lookups walk forward (galloping, then binary search).
    """
    kept = 0
    for r in range(count):
        seq = running[r]
        if totals[seq] + rest >= threshold:
            running[kept] = seq
            kept += 1
    size = len(seqs)
    at = 0
    for r in range(kept):
        seq = running[r]
        if at >= size:
            break
        step = 1
        while at + step < size and seqs[at + step] < seq:  # gallop to a bracket, then bisect it
            at += step
            step *= 2
        low, high = at, min(at + step, size - 1)
        while low < high:
            middle = (low + high) // 2
            if seqs[middle] < seq:
                low = middle + 1
            else:
                high = middle
        at = low
        if seqs[at] == seq:
            totals[seq] += idf * impacts[at]
    return kept


_warm = False


def warm_up() -> None:
    """Compile (or load from the cache) every kernel for the types the index uses, once per process."""
    global _warm
    if _warm:
        return
    totals, seqs = np.zeros(4), np.array([1, 2], dtype=np.int64)
    impacts, keep = np.ones(2, dtype=np.float32), np.zeros(0, dtype=np.bool_)
    accumulate(totals, seqs, impacts, 1.0, keep)
    accumulate(totals, seqs, impacts, 1.0, np.ones(4, dtype=np.bool_))
    kth_largest(totals, seqs, 2, 1, 0.0)
    running = seqs.copy()
    refine(totals, running, 2, seqs, impacts, 1.0, 0.0, -np.inf)
    drop_sorted(running, 2, seqs[:1].copy())
    _warm = True
