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
    """The k-th largest total among the first `count` of `seqs` (`floor` when fewer or lower).

    Only totals above `floor` can change the answer, so only they are partitioned: once the
    floor is high, that is a small share of the list."""
    if count < k:
        return floor
    values = np.empty(count)
    above = 0
    for i in range(count):
        value = totals[seqs[i]]
        if value > floor:
            values[above] = value
            above += 1
    if above < k:
        return floor
    return np.partition(values[:above], above - k)[above - k]


@njit(cache=True, nogil=True)
def largest(totals: np.ndarray, seqs: np.ndarray, count: int, m: int, floor: float) -> np.ndarray:
    """The seqs among the first `count` of `seqs` whose total is at least `floor` and at least the
    m-th largest of those (all of them when there are no more than m), ascending."""
    values = np.empty(count)
    chosen = np.empty(count, dtype=np.int64)
    size = 0
    for i in range(count):
        value = totals[seqs[i]]
        if value >= floor:
            values[size] = value
            chosen[size] = seqs[i]
            size += 1
    if size > m:
        cut = np.partition(values[:size].copy(), size - m)[size - m]
        kept = 0
        for i in range(size):
            if values[i] >= cut:
                chosen[kept] = chosen[i]
                kept += 1
        size = kept
    found = chosen[:size].copy()
    found.sort()
    return found


@njit(cache=True, nogil=True)
def survivors(totals: np.ndarray, seqs: np.ndarray, count: int, rest: float, threshold: float,
              done: np.ndarray, marked: np.ndarray) -> np.ndarray:
    """The seqs among the first `count` of `seqs` that could still reach `threshold` with `rest`
    more, leaving out those in `done`, in their order in `seqs`; each is set in `marked` (which
    must be all False on entry)."""
    for i in range(len(done)):
        marked[done[i]] = True
    found = np.empty(count, dtype=np.int64)
    size = 0
    for i in range(count):
        seq = seqs[i]
        if not marked[seq] and totals[seq] + rest >= threshold:
            found[size] = seq
            size += 1
    for i in range(len(done)):
        marked[done[i]] = False
    for i in range(size):
        marked[found[i]] = True
    return found[:size]


@njit(cache=True, nogil=True)
def drop_below(totals: np.ndarray, running: np.ndarray, count: int, rest: float, threshold: float,
               marked: np.ndarray) -> int:
    """Drop from the first `count` of `running` (keeping their order) the events that cannot reach
    `threshold` even with `rest` more, clearing their mark; returns how many are left."""
    kept = 0
    for r in range(count):
        seq = running[r]
        if totals[seq] + rest >= threshold:
            running[kept] = seq
            kept += 1
        else:
            marked[seq] = False
    return kept


@njit(cache=True, nogil=True)
def add_marked(totals: np.ndarray, marked: np.ndarray, seqs: np.ndarray, impacts: np.ndarray, idf: float) -> None:
    """Add `idf * impact` to the total of each listed event that `marked` sets: one pass over the
    list, cheaper than looking each marked event up once they are many."""
    for i in range(len(seqs)):
        seq = seqs[i]
        if marked[seq]:
            totals[seq] += idf * impacts[i]


@njit(cache=True, nogil=True)
def unmark(marked: np.ndarray, seqs: np.ndarray, count: int) -> None:
    """Clear the marks of the first `count` of `seqs`."""
    for i in range(count):
        marked[seqs[i]] = False


@njit(cache=True, nogil=True)
def add_looked_up(totals: np.ndarray, running: np.ndarray, count: int, seqs: np.ndarray, impacts: np.ndarray,
                  idf: float) -> None:
    """Add `idf * impact` to the total of each of the first `count` of `running` that the list holds.

    Both `running` and `seqs` ascend, so the lookups walk forward (galloping, then binary search).
    """
    size = len(seqs)
    at = 0
    for r in range(count):
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
    lead = largest(totals, seqs, 2, 1, 0.0)
    marked = np.zeros(4, dtype=np.bool_)
    others = survivors(totals, seqs, 2, 0.0, 0.5, lead, marked)
    drop_below(totals, others, len(others), 0.0, 0.5, marked)
    add_marked(totals, marked, listed, impacts, 1.0)
    unmark(marked, others, len(others))
    add_looked_up(totals, seqs, 2, listed, impacts, 1.0)
    reset(totals, seqs, 2)
    _warm = True
