"""Average-linkage agglomeration over weighted groups (micro-clusters), cut at a similarity.

Each group is a sum vector S and a count n; the average-link similarity of two groups of
normalised vectors is S_a . S_b / (n_a n_b), and a merged group's sum is S_a + S_b, so the
result is exact UPGMA over the underlying items. Nearest-neighbour chaining keeps it O(M^2).
Cannot-link pairs never merge (directly or through a merged group).
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np


class _UnionFind:
    def __init__(self, size: int):
        self.parent = list(range(size))

    def find(self, x: int) -> int:
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: int, b: int) -> int:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)
        return min(ra, rb)


def agglomerate(sums: np.ndarray, counts: np.ndarray, cut: float, must_link: Iterable[tuple[int, int]] = (),
                cannot_link: Iterable[tuple[int, int]] = ()) -> list[int]:
    """Group label (the smallest member index) for each of the M input groups.

    `must_link` pairs are joined before anything else; groups then merge while their
    average-link similarity exceeds `cut`, never joining a `cannot_link` pair.
    """
    m = len(counts)
    if m == 0:
        return []
    uf = _UnionFind(m)
    cannot_link = list(cannot_link)
    apart: dict[int, set[int]] = {i: set() for i in range(m)}  # per component root: roots it must avoid
    for a, b in cannot_link:
        apart[a].add(b)
        apart[b].add(a)
    for a, b in must_link:  # a must-link that would join a cannot-link pair (even transitively) is dropped
        ra, rb = uf.find(a), uf.find(b)
        if ra == rb or {uf.find(x) for x in apart[ra]} & {rb}:
            continue
        root = uf.union(ra, rb)
        apart[root] = apart[ra] | apart[rb]
    roots = sorted({uf.find(i) for i in range(m)})
    index = {r: k for k, r in enumerate(roots)}
    total = np.zeros((len(roots), sums.shape[1]), dtype=np.float64)
    size = np.zeros(len(roots), dtype=np.float64)
    for i in range(m):
        total[index[uf.find(i)]] += sums[i]
        size[index[uf.find(i)]] += counts[i]
    forbidden: dict[int, set[int]] = {k: set() for k in range(len(roots))}
    for a, b in cannot_link:
        ka, kb = index[uf.find(a)], index[uf.find(b)]
        if ka != kb:
            forbidden[ka].add(kb)
            forbidden[kb].add(ka)
    group_of = _nn_chain(total, size, cut, forbidden)
    return [roots[group_of[index[uf.find(i)]]] for i in range(m)]


def _nn_chain(total: np.ndarray, size: np.ndarray, cut: float, forbidden: dict[int, set[int]]) -> list[int]:
    """Merge reciprocal nearest neighbours above `cut`; returns a representative per group."""
    k = len(size)
    active = np.ones(k, dtype=bool)
    label = list(range(k))
    members: dict[int, list[int]] = {i: [i] for i in range(k)}
    chain: list[int] = []
    while active.sum() > 1:
        if not chain:
            chain.append(int(np.flatnonzero(active)[0]))
        a = chain[-1]
        sims = (total @ total[a]) / (size * size[a])
        sims[~active] = -np.inf
        sims[a] = -np.inf
        for f in forbidden[a]:
            sims[f] = -np.inf
        b = int(np.argmax(sims))
        best = float(sims[b])
        if len(chain) > 1 and float(sims[chain[-2]]) >= best:
            b, best = chain[-2], float(sims[chain[-2]])
        if not np.isfinite(best) or best <= cut:
            active[a] = False  # nothing it may still join reaches the cut (average linkage is reducible)
            chain.pop()
            continue
        if len(chain) > 1 and b == chain[-2]:
            chain.pop()
            chain.pop()
            total[a] += total[b]
            size[a] += size[b]
            active[b] = False
            forbidden[a] |= forbidden.pop(b)
            for f in forbidden[a]:
                forbidden[f].discard(b)
                forbidden[f].add(a)
            members[a].extend(members.pop(b))
            continue
        chain.append(b)
    for representative, group in members.items():
        for i in group:
            label[i] = min(group)
    return label
