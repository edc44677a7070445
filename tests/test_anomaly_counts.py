"""The hourly count baseline on hand-made series: cold start, weekly pattern, robust level, the NB tail."""
from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import poisson

from engine.anomalies.counts import CountModel, CountParams, tail_score

ONE = np.array([True])


def _run(counts: np.ndarray, params: CountParams | None = None, start: int = 0) -> dict[int, float]:
    found = CountModel(params).run(counts[None, :], np.array([start]), 0, ONE)
    return {a.bucket: a.score for a in found}


def _background(days: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).poisson(1.0, days * 24).astype(float)


def test_tail_score_tends_to_poisson_and_grows_with_the_count() -> None:
    mean = 2.0
    confident = tail_score(np.array([8]), np.array([mean * 1e6]), np.array([1e6]))[0]
    assert confident == pytest.approx(-np.log10(poisson.sf(7, mean)), rel=1e-3)
    scores = tail_score(np.array([3, 6, 12]), np.full(3, 2.0), np.full(3, 1.0))
    assert scores[0] < scores[1] < scores[2]
    assert tail_score(np.array([6]), np.array([2.0]), np.array([1.0]))[0] < confident  # less history, wider


def test_a_burst_needs_to_be_larger_with_little_history() -> None:
    """The same 10-event hour (about 1 an hour is usual) is flagged after three weeks of history, not on day two."""
    early, late = _background(2), _background(21)
    early[-12] = late[-12] = 10
    assert (len(early) - 12) not in _run(early)
    assert (len(late) - 12) in _run(late)


def test_weekly_pattern_is_learnt_and_the_same_burst_on_another_day_is_flagged() -> None:
    counts = _background(28, seed=1)
    for week in range(4):
        counts[week * 168 + 9] += 20  # Mondays 09:00 (bucket 0 is Monday 00:00)
    tuesday = 3 * 168 + 24 + 9
    counts[tuesday] += 20
    found = _run(counts)
    assert 9 in found  # the first Monday: nothing known yet
    assert not any(week * 168 + 9 in found for week in (1, 2, 3))
    assert tuesday in found


def test_one_burst_does_not_lift_the_other_hours() -> None:
    params = CountParams(threshold=0.0, min_count=0, min_ratio=0.0)
    calm, burst = _background(10, seed=2), _background(10, seed=2)
    burst[9 * 24 + 3] += 200
    calm_expected = {a.bucket: a.expected for a in CountModel(params).run(calm[None, :], np.array([0]), 0, ONE)}
    burst_expected = {a.bucket: a.expected for a in CountModel(params).run(burst[None, :], np.array([0]), 0, ONE)}
    later = 9 * 24 + 15
    assert burst_expected[later] < 1.2 * calm_expected[later]


def test_nothing_is_learnt_or_flagged_before_a_series_starts() -> None:
    counts = np.zeros(24 * 10)
    counts[24 * 9 + 5] = 4  # a narrative born on day ten with four reports in its first hour
    assert _run(counts, start=24 * 9 + 5) == {}
    assert 24 * 9 + 5 in _run(counts, start=0)  # nine silent days counted as history would flag it
