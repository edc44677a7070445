"""Volume anomalies over the stored stream: what `GET /v1/anomalies` and the narrative views read."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from context_store import ContextStore
from engine.anomalies.counts import BucketAnomaly, CountModel, CountParams
from engine.anomalies.series import HOUR, CountSeries, hourly_counts

LOOKBACK = timedelta(days=90)  # history older than this (before the stream's clock) is not read
FLAG_WITHIN = timedelta(days=2)  # a narrative is flagged for a growth anomaly this recent


@dataclass(frozen=True)
class Anomaly:
    """An hour in which a system or a narrative received improbably many events."""

    scope: str
    key: str
    bucket_start: datetime
    bucket_end: datetime
    observed: int
    expected: float
    score: float
    why: str


def _why(found: BucketAnomaly, start: datetime) -> str:
    return (f"{found.observed} events in the hour from {start:%a %d %b %H:%M} UTC where {found.expected:.1f} "
            f"were expected (history at this hour of day: {found.history_days} day(s); at this hour of the "
            f"week: {found.history_weeks} week(s); pooled hour-of-day profile x{found.pooled_factor:.2f}); "
            f"P(count >= {found.observed}) = 10^-{found.score:.1f}")


class AnomalyService:
    """Runs the count baseline over every system and narrative; results are cached per store state."""

    def __init__(self, store: ContextStore, params: CountParams | None = None):
        self.store = store
        self.model = CountModel(params)
        self._lock = threading.Lock()
        self._cache: tuple[object, list[Anomaly]] | None = None

    def _rows(self) -> tuple[object, list[tuple[datetime, tuple[str, ...], str | None]]]:
        tables = self.store.narratives
        memberships = tables.all_memberships()
        seqs = [m.seq for m in memberships] + list(tables.unassigned_seqs())
        survivors: dict[str, str | None] = {}
        narrative_of: dict[int, str | None] = {}
        for m in memberships:
            if m.narrative_id not in survivors:
                survivors[m.narrative_id] = tables.survivor(m.narrative_id)
            narrative_of[m.seq] = survivors[m.narrative_id]
        contexts = self.store.get_contexts(seqs)
        rows = [(c.occurred_at, c.systems, narrative_of.get(s)) for s, c in contexts.items()]
        fingerprint = (self.store.count(), hash(tuple(narrative_of.items())))  # memberships come in seq order
        return fingerprint, rows

    def all(self) -> list[Anomaly]:
        """Every anomaly within the look-back, newest bucket first, then highest score."""
        fingerprint, rows = self._rows()
        with self._lock:
            if self._cache is not None and self._cache[0] == fingerprint:
                return self._cache[1]
        clock = max((t for t, _, _ in rows), default=None)
        found = self._detect(hourly_counts(rows, clock - LOOKBACK if clock else None))
        with self._lock:
            self._cache = (fingerprint, found)
        return found

    def _detect(self, series: CountSeries) -> list[Anomaly]:
        if not series.keys:
            return []
        pooled = np.array([k.scope == "system" for k in series.keys])
        if not pooled.any():  # events without systems: their narratives make the pooled profile
            pooled = ~pooled
        out = []
        for found in self.model.run(series.counts, series.starts, series.first_hour_of_week, pooled):
            key = series.keys[found.series]
            start = series.bucket_start(found.bucket)
            out.append(Anomaly(key.scope, key.name, start, start + HOUR, found.observed, round(found.expected, 3),
                               round(found.score, 2), _why(found, start)))
        out.sort(key=lambda a: (-a.bucket_start.timestamp(), -a.score))
        return out

    def list(self, since: datetime | None = None, until: datetime | None = None, scope: str | None = None,
             limit: int = 50, offset: int = 0) -> list[Anomaly]:
        """Anomalies whose hour ends after `since` and starts before `until`, optionally of one scope, paginated."""
        chosen = [a for a in self.all() if (since is None or a.bucket_end > since)
                  and (until is None or a.bucket_start < until) and (scope is None or a.scope == scope)]
        return chosen[offset:offset + limit]

    def narrative_flags(self) -> dict[str, Anomaly]:
        """Each narrative's latest growth anomaly within FLAG_WITHIN of the stream's clock."""
        clock = self.store.latest_time()
        flags: dict[str, Anomaly] = {}
        if clock is None:
            return flags
        for anomaly in self.all():
            if anomaly.scope == "narrative" and anomaly.bucket_end > clock - FLAG_WITHIN:
                flags.setdefault(anomaly.key, anomaly)
        return flags
