"""The inner loops of BM25 top-k search (`maxscore.py`), compiled with numba.

Each works on one weighted posting list (ascending seqs with their impacts, see
`decoded_postings.py`), a dense array of running totals indexed by seq, and a buffer of the seqs
whose total is positive ("touched", in first-touch order). Compiled code is cached on disk: the
first process after an install or a change of this file compiles for some seconds
(`lazy_kernels.py` does it when a lexical index is built); later ones load it.
"""
from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True, nogil=True)
def accumulate(totals: np.ndarray, seqs: np.ndarray, impacts: np.ndarray, idf: float, keep: np.ndarray,
               touched: np.ndarray, count: int) -> tuple[float, int]:
    """Add `idf * impact` to each listed event's total (only events `keep` marks, when it is not
    empty), appending newly positive seqs to `touched[count:]`; returns the largest total among
    them and the new count."""
    best = 0.0
    filtered = len(keep) > 0
    for i in range(len(seqs)):
        seq = seqs[i]
        if filtered and not keep[seq]:
            continue
        old = totals[seq]
        total = old + idf * impacts[i]
        if old == 0.0 and total > 0.0:
            touched[count] = seq
            count += 1
        totals[seq] = total
        if total > best:
            best = total
    return best, count


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
def largest(totals: np.ndarray, seqs: np.ndarray, count: int, m: int) -> np.ndarray:
    """The seqs among the first `count` of `seqs` whose total is at least the m-th largest (all
    when there are no more than m), ascending."""
    if count <= m:
        found = seqs[:count].copy()
        found.sort()
        return found
    values = np.empty(count)
    for i in range(count):
        values[i] = totals[seqs[i]]
    floor = np.partition(values.copy(), count - m)[count - m]
    size = 0
    for i in range(count):
        if values[i] >= floor:
            size += 1
    found = np.empty(size, dtype=np.int64)
    size = 0
    for i in range(count):
        if values[i] >= floor:
            found[size] = seqs[i]
            size += 1
    found.sort()
    return found


@njit(cache=True, nogil=True)
def survivors(totals: np.ndarray, seqs: np.ndarray, count: int, rest: float, threshold: float,
              done: np.ndarray) -> np.ndarray:
    """The seqs among the first `count` of `seqs` that could still reach `threshold` with `rest`
    more, leaving out those in `done` (ascending); ascending."""
    size = 0
    for i in range(count):
        if totals[seqs[i]] + rest >= threshold:
            size += 1
    found = np.empty(size, dtype=np.int64)
    size = 0
    for i in range(count):
        if totals[seqs[i]] + rest >= threshold:
            found[size] = seqs[i]
            size += 1
    found.sort()
    kept = 0
    at = 0
    for i in range(size):
        seq = found[i]
        while at < len(done) and done[at] < seq:
            at += 1
        if at < len(done) and done[at] == seq:
            continue
        found[kept] = seq
        kept += 1
    return found[:kept]


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


@njit(cache=True, nogil=True)
def reset(totals: np.ndarray, touched: np.ndarray, count: int) -> None:
    """Zero the totals of the first `count` touched seqs."""
    for i in range(count):
        totals[touched[i]] = 0.0


_warm = False


def warm_up() -> None:
    """Compile (or load from the cache) every kernel for the types the index uses, once per process."""
    global _warm
    if _warm:
        return
    totals, seqs = np.zeros(4), np.array([1, 2], dtype=np.int64)  # running and touched seqs
    listed = seqs.astype(np.int32)  # a weighted list's seqs
    impacts, touched = np.ones(2, dtype=np.float32), np.zeros(4, dtype=np.int64)
    accumulate(totals, listed, impacts, 1.0, np.zeros(0, dtype=np.bool_), touched, 0)
    accumulate(totals, listed, impacts, 1.0, np.ones(4, dtype=np.bool_), touched, 0)
    kth_largest(totals, listed, 2, 1, 0.0)
    kth_largest(totals, seqs, 2, 1, 0.0)
    lead = largest(totals, seqs, 2, 1)
    survivors(totals, seqs, 2, 0.0, 0.5, lead)
    refine(totals, seqs.copy(), 2, listed, impacts, 1.0, 0.0, -np.inf)
    reset(totals, seqs, 2)
    _warm = True
