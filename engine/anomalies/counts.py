"""The count baseline: a hierarchical Gamma-Poisson model of events per hour with seasonality.

For one series (a system or a narrative) and an hour bucket with hour-of-day h and hour-of-week w:

1. level: the series' events per hour, a Gamma posterior from its own decayed history of every
   hour, started from the pooled rate of all series (`prior_hours` pseudo-hours of it); counts
   enter it winsorised at expected + `level_clip` predictive standard deviations (robust: a
   burst does not lift every hour, while its own hour slot learns it in full);
2. hour-of-day: prior mean level * g[h], where g is the pooled hour-of-day profile of the pooled
   series (the systems) learnt so far, each hour's rate shrunk towards the all-hours rate by
   `profile_prior_days` pseudo-days; worth `day_prior_days` pseudo-days; updated with this series'
   own counts at hour h on earlier days (decayed by `day_decay` per day);
3. hour-of-week: a weekday factor on the hour-of-day rate, the ratio of this series' counts at
   the same hour on earlier weeks (decayed by `week_decay` per week) to what the hour-of-day rate
   expected, shrunk to 1 by `week_prior_weeks` pseudo-weeks; it scales the hour-of-day Gamma
   (shape a, rate b / factor), so the weekday pattern moves the mean without discarding the
   confidence the daily history gave.

The predictive distribution of the count is negative binomial (Gamma-Poisson) with the final
Gamma's shape a and rate b: mean a / b, variance a / b * (1 + 1 / b). Little history means a
small b, so a wide predictive: a new series needs a large burst to be flagged. Each night of a
recurring batch job raises a and b of its hour, so after two or three nights the spike is expected
there, while the same spike at an hour without that history stays improbable. The score is
-log10 P(X >= observed); a bucket is an anomaly at score >= `threshold` with at least `min_count`
events and at least twice the expected count. Decay bounds b (memory of roughly 1 / (1 - decay)
periods), which keeps the predictive wide enough for drift and bursty (over-dispersed) counts.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import nbinom

HOURS_PER_DAY = 24
HOURS_PER_WEEK = 168


@dataclass(frozen=True)
class CountParams:
    """Prior strengths, memory and decision rule of the count baseline (see module docstring)."""

    prior_hours: float = 24.0
    day_prior_days: float = 2.0
    day_decay: float = 0.9
    week_prior_weeks: float = 1.0
    week_decay: float = 0.8
    level_decay: float = 0.995
    level_clip: float = 4.0
    profile_prior_days: float = 2.0
    threshold: float = 4.0
    min_count: int = 3
    min_ratio: float = 2.0


@dataclass(frozen=True)
class BucketAnomaly:
    """An hour bucket whose count is improbable under the series' baseline."""

    series: int
    bucket: int
    observed: int
    expected: float
    score: float
    history_days: int
    history_weeks: int
    pooled_factor: float


def pooled_factor(hour_sum: float, hour_days: float, all_sum: float, all_days: float, prior_days: float) -> float:
    """Pooled hour-of-day factor: the hour's rate over the all-hours rate, shrunk to 1 by `prior_days`."""
    if all_sum <= 0:
        return 1.0
    mean_rate = all_sum / all_days
    return (hour_sum + prior_days * mean_rate) / ((hour_days + prior_days) * mean_rate)


def tail_score(observed: np.ndarray, shape: np.ndarray, rate: np.ndarray) -> np.ndarray:
    """-log10 P(X >= observed) for X ~ NegBin(shape, rate/(rate+1)), the Gamma(shape, rate)-Poisson mixture."""
    log_sf = nbinom.logsf(observed - 1, shape, rate / (rate + 1.0))
    return -log_sf / np.log(10.0)


class CountModel:
    """Runs the baseline over a [series x hour] count matrix and reports improbable buckets."""

    def __init__(self, params: CountParams | None = None):
        self.params = params or CountParams()

    def run(self, counts: np.ndarray, starts: np.ndarray, first_hour_of_week: int, pooled: np.ndarray,
            from_bucket: int = 0) -> list[BucketAnomaly]:
        """Scan every bucket in time order (learning from all), reporting anomalies at >= from_bucket.

        `counts` is float [series, buckets]; series i begins at bucket `starts[i]` (its first
        event: nothing is learnt or flagged before); bucket 0 starts at hour-of-week
        `first_hour_of_week` (0 = Monday 00:00 UTC); `pooled` marks the series whose counts make
        the pooled hour-of-day profile (learnt online, like everything else).
        """
        p = self.params
        n_series, n_buckets = counts.shape
        lived = np.maximum(n_buckets - starts, 1)
        pooled_rate = float(counts.sum() / lived.sum()) if n_series else 0.0
        level_sum = np.zeros(n_series)
        level_n = np.zeros(n_series)
        day_sum = np.zeros((n_series, HOURS_PER_DAY))
        day_n = np.zeros((n_series, HOURS_PER_DAY))
        day_seen = np.zeros((n_series, HOURS_PER_DAY), dtype=int)
        week_sum = np.zeros((n_series, HOURS_PER_WEEK))
        week_n = np.zeros((n_series, HOURS_PER_WEEK))
        week_seen = np.zeros((n_series, HOURS_PER_WEEK), dtype=int)
        pool_sum = np.zeros(HOURS_PER_DAY)
        pool_days = np.zeros(HOURS_PER_DAY)
        found: list[BucketAnomaly] = []
        for b in range(n_buckets):
            w = (first_hour_of_week + b) % HOURS_PER_WEEK
            h = w % HOURS_PER_DAY
            observed = counts[:, b]
            live = starts <= b
            level = (level_sum + p.prior_hours * pooled_rate) / (level_n + p.prior_hours)
            factor = pooled_factor(pool_sum[h], pool_days[h], pool_sum.sum(), pool_days.sum(), p.profile_prior_days)
            day_shape = p.day_prior_days * level * factor + day_sum[:, h]
            day_rate = p.day_prior_days + day_n[:, h]
            day_mean = day_shape / day_rate
            weekday = (week_sum[:, w] + p.week_prior_weeks * day_mean) / ((week_n[:, w] + p.week_prior_weeks) * day_mean)
            shape, rate = day_shape, day_rate / weekday
            expected = shape / rate
            if b >= from_bucket:
                candidates = np.flatnonzero(live & (observed >= p.min_count) & (observed >= p.min_ratio * expected))
                if candidates.size:
                    scores = tail_score(observed[candidates], shape[candidates], rate[candidates])
                    for i, s in zip(candidates, scores):
                        if s >= p.threshold:
                            found.append(BucketAnomaly(int(i), b, int(observed[i]), float(expected[i]), float(s),
                                                       int(day_seen[i, h]), int(week_seen[i, w]), factor))
            # robust level: one burst does not raise every hour's expectation (its hour slot still learns it)
            capped = np.minimum(observed, expected + p.level_clip * np.sqrt(expected * (1.0 + 1.0 / rate)) + 1.0)
            level_sum = np.where(live, level_sum * p.level_decay + capped, level_sum)
            level_n = np.where(live, level_n * p.level_decay + 1.0, level_n)
            day_sum[:, h] = np.where(live, day_sum[:, h] * p.day_decay + observed, 0.0)
            day_n[:, h] = np.where(live, day_n[:, h] * p.day_decay + 1.0, 0.0)
            day_seen[:, h] += live
            week_sum[:, w] = np.where(live, week_sum[:, w] * p.week_decay + observed, 0.0)
            week_n[:, w] = np.where(live, week_n[:, w] * p.week_decay + 1.0, 0.0)
            week_seen[:, w] += live
            pool_sum[h] = pool_sum[h] * p.day_decay + observed[pooled].sum()
            pool_days[h] = pool_days[h] * p.day_decay + 1.0
        return found
