"""Two-level streaming average linkage: micro-clusters join into narratives.

Online, per event x (a normalised vector):
- `nn` = its best cosine to any earlier event feeds a running median `med` (a histogram);
  for the first `warmup` events `med` is `warmup_median`.
- x joins the micro-cluster with the best average-link similarity x.S/n if that exceeds
  `med`; otherwise it opens a micro-cluster, which joins the narrative with the best
  average-link similarity x.S_N/n_N if that exceeds T = med - delta, else opens a narrative.
Consolidation (every `consolidate_every` events, and on demand) re-runs exact average
linkage over all micro-clusters cut at T (honouring must-link and cannot-link pairs), then
merges narratives smaller than `min_size` whole into the best larger one above `absorb_at`.
Narrative keys are opaque here; the caller maps groups to stable ids (see `stable_ids`).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from engine.narratives.agglomerate import agglomerate

BINS = 2000  # histogram of nn similarities over [-1, 1] (0.001 wide)


@dataclass(frozen=True)
class ClusterParams:
    """Documented constants (set on DSTC11 banking task1, checked on task2 and Banking77 test; see README
    "Narratives" and "Measured")."""

    delta: float = 0.30
    min_size: int = 8
    absorb_at: float = 0.30
    consolidate_every: int = 100
    warmup: int = 20
    warmup_median: float = 0.8


class StreamingClusterer:
    """Micro-clusters (sum vector, count, narrative key) and the running nn-similarity median."""

    def __init__(self, dim: int, params: ClusterParams | None = None):
        self.params = params or ClusterParams()
        self.dim = dim
        self._capacity = np.zeros((0, dim), dtype=np.float64)  # rows beyond len(_counts) are spare
        self._sums = self._capacity[:0]
        self._counts = np.zeros(0, dtype=np.float64)
        self.micro_narrative: list[str] = []
        self.micro_members: list[list[int]] = []
        self.micro_roots: list[int] = []
        self._histogram = np.zeros(BINS, dtype=np.int64)
        self.observed = 0
        self.since_consolidation = 0

    # ---- thresholds -------------------------------------------------------------
    def observe_nn(self, similarity: float) -> None:
        """Record an event's best similarity to earlier events."""
        self._histogram[min(BINS - 1, max(0, int((similarity + 1.0) / 2.0 * BINS)))] += 1
        self.observed += 1

    @property
    def micro_threshold(self) -> float:
        """The running median of nn similarities (a fixed prior during warm-up)."""
        if self.observed < self.params.warmup:
            return self.params.warmup_median
        middle = np.searchsorted(np.cumsum(self._histogram), (self.observed + 1) / 2.0)
        return float((middle + 0.5) / BINS * 2.0 - 1.0)

    @property
    def narrative_threshold(self) -> float:
        """T = micro threshold - delta."""
        return self.micro_threshold - self.params.delta

    # ---- online step --------------------------------------------------------------
    def narrative_scores(self, vector: np.ndarray) -> dict[str, float]:
        """Average-link similarity of a vector to every narrative."""
        if not self.micro_narrative:
            return {}
        keys, inverse = np.unique(np.array(self.micro_narrative), return_inverse=True)
        dots = np.zeros(len(keys))
        counts = np.zeros(len(keys))
        np.add.at(dots, inverse, self._sums @ vector)
        np.add.at(counts, inverse, self._counts)
        return {str(k): float(d / c) for k, d, c in zip(keys, dots, counts) if c > 0}

    def best_micro(self, vector: np.ndarray) -> tuple[int | None, float]:
        """The micro-cluster closest by average link, with its similarity."""
        if not len(self._counts):
            return None, -1.0
        scores = (self._sums @ vector) / self._counts
        best = int(np.argmax(scores))
        return best, float(scores[best])

    def add_to_micro(self, micro: int, seq: int, vector: np.ndarray) -> None:
        """Put an event into an existing micro-cluster."""
        self._sums[micro] += vector
        self._counts[micro] += 1
        self.micro_members[micro].append(seq)
        self.since_consolidation += 1

    def new_micro(self, seq: int, vector: np.ndarray, narrative: str, root: int | None = None) -> int:
        """Open a micro-cluster for an event inside a narrative (`root`: its stable key, default `seq`)."""
        self.micro_roots.append(seq if root is None else root)
        size = len(self._counts)
        if size == len(self._capacity):  # grow by doubling: amortised O(1) per new micro-cluster
            grown = np.zeros((max(16, 2 * size), self.dim), dtype=np.float64)
            grown[:size] = self._capacity[:size]
            self._capacity = grown
        self._capacity[size] = vector
        self._sums = self._capacity[: size + 1]
        self._counts = np.append(self._counts, 1.0)
        self.micro_narrative.append(narrative)
        self.micro_members.append([seq])
        self.since_consolidation += 1
        return len(self._counts) - 1

    def remove_member(self, seq: int, vector: np.ndarray) -> None:
        """Take an event out of its micro-cluster (for moves and erasure)."""
        for i, members in enumerate(self.micro_members):
            if seq in members:
                members.remove(seq)
                self._sums[i] -= vector
                self._counts[i] -= 1
                if not members:
                    self._drop_micro(i)
                return

    def _drop_micro(self, i: int) -> None:
        self._capacity = np.delete(self._sums, i, axis=0)
        self._sums = self._capacity
        self._counts = np.delete(self._counts, i)
        del self.micro_narrative[i]
        del self.micro_members[i]
        del self.micro_roots[i]

    def micro_of(self, seq: int) -> int | None:
        """Index of the micro-cluster holding an event."""
        return next((i for i, members in enumerate(self.micro_members) if seq in members), None)

    # ---- consolidation ------------------------------------------------------------
    def regroup(self, free: Sequence[int] | None = None, must_link: Iterable[tuple[int, int]] = (),
                cannot_link: Iterable[tuple[int, int]] = ()) -> list[list[int]]:
        """New narrative groups (lists of micro indices) over the `free` micro-clusters (default all;
        the rest are pinned by a person) from exact average linkage, then absorption of small groups."""
        self.since_consolidation = 0
        free = list(range(len(self._counts))) if free is None else list(free)
        position = {micro: i for i, micro in enumerate(free)}
        must = [(position[a], position[b]) for a, b in must_link if a in position and b in position]
        cannot = [(position[a], position[b]) for a, b in cannot_link if a in position and b in position]
        labels = agglomerate(self._sums[list(free)], self._counts[list(free)].copy(), self.narrative_threshold,
                             must, cannot)
        groups: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(label, []).append(free[i])
        apart = {(free[a], free[b]) for a, b in cannot}
        return self._absorb_small(list(groups.values()), apart | {(b, a) for a, b in apart})

    def text_groups(self, free: Sequence[int], cannot_link: Iterable[tuple[int, int]] = ()) -> dict[int, int]:
        """Micro index -> group label from average linkage over the `free` micro-clusters on text alone."""
        free = list(free)
        position = {micro: i for i, micro in enumerate(free)}
        cannot = [(position[a], position[b]) for a, b in cannot_link if a in position and b in position]
        labels = agglomerate(self._sums[free], self._counts[free].copy(), self.narrative_threshold, (), cannot)
        return {micro: free[label] for micro, label in zip(free, labels)}

    def _absorb_small(self, groups: list[list[int]], cannot: set[tuple[int, int]]) -> list[list[int]]:
        size = [float(self._counts[g].sum()) for g in groups]
        total = [self._sums[g].sum(axis=0) for g in groups]
        large = [k for k, s in enumerate(size) if s >= self.params.min_size]
        if not large:
            return groups
        merged: dict[int, list[int]] = {k: list(groups[k]) for k in large}
        owner = {micro: position for position, k in enumerate(large) for micro in groups[k]}
        large_totals = np.stack([total[k] for k in large])
        large_sizes = np.array([size[k] for k in large])
        partners: dict[int, set[int]] = {}
        for a, b in cannot:
            partners.setdefault(a, set()).add(b)
        for k, group in enumerate(groups):
            if size[k] >= self.params.min_size:
                continue
            scores = (large_totals @ total[k]) / (size[k] * large_sizes)
            blocked = {owner[p] for a in group for p in partners.get(a, ()) if p in owner}
            scores[list(blocked)] = -np.inf  # a large group now holding a cannot-link partner
            best = int(np.flatnonzero(scores == scores.max())[-1])  # ties: the later group
            if scores[best] > self.params.absorb_at:
                merged[large[best]].extend(group)
                owner.update((micro, best) for micro in group)
            else:
                merged[k] = list(group)
        return list(merged.values())

    def relabel(self, micro_to_narrative: dict[int, str]) -> None:
        """Apply narrative keys chosen by the caller after a regroup."""
        for micro, key in micro_to_narrative.items():
            self.micro_narrative[micro] = key
