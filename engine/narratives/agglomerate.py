"""Average-linkage agglomeration over weighted groups (micro-clusters), cut at a similarity.

Each group is a sum vector S and a count n; the average-link similarity of two groups of
normalised vectors is S_a . S_b / (n_a n_b), and a merged group's sum is S_a + S_b, so the
result is exact UPGMA over the underlying items. Nearest-neighbour chaining keeps it O(M^2):
up to `DENSE_LIMIT` groups over a similarity matrix updated in place (O(M) a step), beyond it
computing each needed row from the sums (O(M d) a step, no M x M memory).
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


DENSE_LIMIT = 4096  # up to this many groups, similarities live in one k x k matrix (128 MB at the limit)


def _nn_chain(total: np.ndarray, size: np.ndarray, cut: float, forbidden: dict[int, set[int]]) -> list[int]:
    """Merge reciprocal nearest neighbours above `cut`; returns a representative per group."""
    k = len(size)
    sims = _MatrixSims(total, size, forbidden) if k <= DENSE_LIMIT else _ComputedSims(total, size, forbidden)
    label = list(range(k))
    members: dict[int, list[int]] = {i: [i] for i in range(k)}
    chain: list[int] = []
    while sims.active.sum() > 1:
        if not chain:
            chain.append(int(np.flatnonzero(sims.active)[0]))
        a = chain[-1]
        row = sims.row(a)
        b = int(np.argmax(row))
        best = float(row[b])
        if len(chain) > 1 and float(row[chain[-2]]) >= best:
            b, best = chain[-2], float(row[chain[-2]])
        if not np.isfinite(best) or best <= cut:
            sims.retire(a)  # nothing it may still join reaches the cut (average linkage is reducible)
            chain.pop()
            continue
        if len(chain) > 1 and b == chain[-2]:
            chain.pop()
            chain.pop()
            sims.merge(a, b)
            members[a].extend(members.pop(b))
            continue
        chain.append(b)
    for group in members.values():
        for i in group:
            label[i] = min(group)
    return label


class _ComputedSims:
    """Each group's similarities computed from the sum vectors when asked: O(k d) a row, no matrix."""

    def __init__(self, total: np.ndarray, size: np.ndarray, forbidden: dict[int, set[int]]):
        self.total, self.size, self.forbidden = total, size, forbidden
        self.active = np.ones(len(size), dtype=bool)

    def row(self, a: int) -> np.ndarray:
        """Average-link similarity of group a to every group (-inf where it may not merge)."""
        sims = (self.total @ self.total[a]) / (self.size * self.size[a])
        sims[~self.active] = -np.inf
        sims[a] = -np.inf
        for f in self.forbidden[a]:
            sims[f] = -np.inf
        return sims

    def retire(self, a: int) -> None:
        """Group a merges no more."""
        self.active[a] = False

    def merge(self, a: int, b: int) -> None:
        """Fold group b into group a."""
        self.total[a] += self.total[b]
        self.size[a] += self.size[b]
        self.active[b] = False
        forbidden = self.forbidden
        forbidden[a] |= forbidden.pop(b)
        for f in forbidden[a]:
            forbidden[f].discard(b)
            forbidden[f].add(a)


class _MatrixSims:
    """All pairwise similarities in one matrix, kept current by the Lance-Williams update for
    average linkage: sim(a+b, c) = (n_a sim(a, c) + n_b sim(b, c)) / (n_a + n_b), exact because
    sim(a, c) = S_a . S_c / (n_a n_c). -inf marks pairs that may never merge, and stays -inf."""

    def __init__(self, total: np.ndarray, size: np.ndarray, forbidden: dict[int, set[int]]):
        self.size = size
        means = total / size[:, None]
        self.matrix = means @ means.T
        np.fill_diagonal(self.matrix, -np.inf)
        for a, others in forbidden.items():
            self.matrix[a, list(others)] = -np.inf
        self.active = np.ones(len(size), dtype=bool)

    def row(self, a: int) -> np.ndarray:
        """Average-link similarity of group a to every group (-inf where it may not merge)."""
        return self.matrix[a]

    def retire(self, a: int) -> None:
        """Group a merges no more. Its column may stay: every similarity to it is at most the cut,
        and stays so through later merges (a merged group's is a mean of its parts')."""
        self.active[a] = False

    def merge(self, a: int, b: int) -> None:
        """Fold group b into group a."""
        n_a, n_b = self.size[a], self.size[b]
        merged = (n_a * self.matrix[a] + n_b * self.matrix[b]) / (n_a + n_b)
        self.size[a] = n_a + n_b
        merged[a] = -np.inf
        self.matrix[a, :] = merged
        self.matrix[:, a] = merged
        self.matrix[:, b] = -np.inf
        self.active[b] = False
