"""Light narrative facts for ranking: members, centroid, activity, status (no titles or summaries)."""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from context_store import ContextStore
from engine.narratives.views import status_of

OPEN_STATUSES = ("emerging", "active", "cooling")


@dataclass(frozen=True)
class NarrativeInfo:
    """What suggestion ranking needs to know about one live narrative."""

    id: str
    seqs: tuple[int, ...]
    centroid: np.ndarray  # normalised mean of the members' vectors
    first_seen: datetime
    last_seen: datetime
    status: str
    systems: Counter[str]


class NarrativeFacts:
    """Builds `NarrativeInfo` from the store, caching centroids until a narrative's members change."""

    def __init__(self, store: ContextStore):
        self.store = store
        self._cache: dict[str, tuple[tuple[int, ...], np.ndarray]] = {}
        self._lock = threading.Lock()

    def live_id(self, narrative_id: str) -> str | None:
        """The surviving id of any narrative id ever issued, or None."""
        return self.store.narratives.survivor(narrative_id)

    def of_seqs(self, seqs: list[int]) -> dict[int, str]:
        """The live narrative of each given event seq."""
        found = self.store.narratives.narrative_of(seqs)
        return {seq: live for seq, n in found.items() if (live := self.store.narratives.survivor(n))}

    def info(self, narrative_id: str, clock: datetime) -> NarrativeInfo | None:
        """Facts of a live narrative (None when it has no members)."""
        row = self.store.narratives.get(narrative_id)
        seqs = tuple(seq for seq, _ in self.store.narratives.members(narrative_id))
        contexts = self.store.get_contexts(list(seqs))
        if row is None or not contexts:
            return None
        times = [c.occurred_at for c in contexts.values()]
        first, last = min(times), max(times)
        return NarrativeInfo(narrative_id, seqs, self._centroid(narrative_id, seqs), first, last,
                             status_of(last, first, row.resolved_at, clock),
                             Counter(s for c in contexts.values() for s in c.systems))

    def member_times(self, info: NarrativeInfo) -> list[datetime]:
        """When each member happened."""
        return [c.occurred_at for c in self.store.get_contexts(list(info.seqs)).values()]

    def _centroid(self, narrative_id: str, seqs: tuple[int, ...]) -> np.ndarray:
        with self._lock:
            cached = self._cache.get(narrative_id)
            if cached is not None and cached[0] == seqs:
                return cached[1]
        mean = self.store.get_vectors(list(seqs)).mean(axis=0)
        centroid = (mean / max(1e-12, float(np.linalg.norm(mean)))).astype(np.float32)
        with self._lock:
            self._cache[narrative_id] = (seqs, centroid)
        return centroid
