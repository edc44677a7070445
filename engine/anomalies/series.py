"""Stored events as hourly count series, one per system and one per narrative."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np

HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class SeriesKey:
    """What a count series counts: events on a system, or events of a narrative."""

    scope: str  # "system" or "narrative"
    name: str


@dataclass(frozen=True)
class CountSeries:
    """Counts [series, hour buckets] from `origin` (an hour boundary, UTC), with each series' first bucket."""

    keys: list[SeriesKey]
    counts: np.ndarray
    starts: np.ndarray
    origin: datetime

    @property
    def first_hour_of_week(self) -> int:
        """Hour of the week of bucket 0 (0 = Monday 00:00 UTC)."""
        return self.origin.weekday() * 24 + self.origin.hour

    def bucket_start(self, bucket: int) -> datetime:
        """When a bucket begins."""
        return self.origin + bucket * HOUR

    def bucket_of(self, moment: datetime) -> int:
        """The bucket holding a moment (may be negative or past the end)."""
        return int((moment - self.origin) // HOUR)


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0)


def hourly_counts(events: Iterable[tuple[datetime, Iterable[str], str | None]],
                  not_before: datetime | None = None) -> CountSeries:
    """Count (occurred_at, systems, narrative id) rows per hour and per system / narrative.

    Rows before `not_before` are left out (it bounds the work on a long stream).
    """
    rows = [(t, tuple(s), n) for t, s, n in events if not_before is None or t >= not_before]
    if not rows:
        return CountSeries([], np.zeros((0, 0)), np.zeros(0, dtype=int), _floor_hour(datetime.now(timezone.utc)))
    origin = _floor_hour(min(t for t, _, _ in rows))
    n_buckets = int((max(t for t, _, _ in rows) - origin) // HOUR) + 1
    index: dict[SeriesKey, int] = {}
    cells: list[tuple[int, int]] = []
    for moment, systems, narrative in rows:
        bucket = int((moment - origin) // HOUR)
        keys = [SeriesKey("system", s) for s in set(systems)]
        if narrative:
            keys.append(SeriesKey("narrative", narrative))
        for key in keys:
            cells.append((index.setdefault(key, len(index)), bucket))
    counts = np.zeros((len(index), n_buckets))
    if cells:
        series, buckets = np.array(cells).T
        np.add.at(counts, (series, buckets), 1.0)
    starts = np.argmax(counts > 0, axis=1) if len(index) else np.zeros(0, dtype=int)
    return CountSeries(list(index), counts, starts, origin)
