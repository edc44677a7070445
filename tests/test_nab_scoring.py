"""The NAB scorer on hand-computable cases, and its normalisation against NAB's published figures."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from eval.nab.scoring import (DEFAULT_PROFILES, Profile, load_profiles, normalised, probation_rows, scaled_sigmoid,
                              score_series)

STANDARD = Profile("standard", 1.0, 0.11, 1.0)
NAB = Path(__file__).resolve().parents[2] / "shared" / "datasets" / "nab"
# 1000 rows: probation = 150 rows; two windows of 100 rows each
WINDOWS = [(300, 399), (600, 699)]


def test_scaled_sigmoid_anchor_points() -> None:
    assert scaled_sigmoid(0.0) == 0.0
    assert scaled_sigmoid(-1.0) == pytest.approx(2 / (1 + math.exp(-5)) - 1)  # 0.9866
    assert scaled_sigmoid(0.5) == pytest.approx(2 / (1 + math.exp(2.5)) - 1)  # -0.848
    assert scaled_sigmoid(3.5) == -1.0


def test_probation_is_15_percent_capped_at_750() -> None:
    assert probation_rows(1000) == 150 and probation_rows(4032) == 604 and probation_rows(22695) == 750


def test_null_and_perfect_detectors() -> None:
    null = score_series([], 1000, WINDOWS, STANDARD)
    assert (null.raw, null.false_negatives) == (-2.0, 2)
    perfect = score_series([300, 600], 1000, WINDOWS, STANDARD)
    assert perfect.raw == pytest.approx(2.0) and perfect.true_positives == 2
    assert normalised(null.raw, 2, STANDARD) == 0.0 and normalised(perfect.raw, 2, STANDARD) == pytest.approx(100.0)


def test_earlier_detection_earns_more_and_only_the_first_in_a_window_counts() -> None:
    middle = score_series([350], 1000, WINDOWS[:1], STANDARD).raw  # y = -50/100
    assert middle == pytest.approx(scaled_sigmoid(-0.5) / scaled_sigmoid(-1.0))  # 0.859
    last = score_series([399], 1000, WINDOWS[:1], STANDARD).raw  # y = -1/100
    assert 0 < last < middle
    twice = score_series([350, 360, 399], 1000, WINDOWS[:1], STANDARD)
    assert twice.raw == pytest.approx(middle) and twice.false_positives == 0


def test_false_positive_weights() -> None:
    before_any_window = score_series([200], 1000, WINDOWS, STANDARD)
    assert before_any_window.raw == pytest.approx(-0.11 - 2.0) and before_any_window.false_positives == 1
    just_after = score_series([300, 600, 450], 1000, WINDOWS, STANDARD).raw  # 51 rows after a 100-row window
    assert just_after == pytest.approx(2.0 + 0.11 * scaled_sigmoid(0.51))  # -0.11 * 0.855
    far_after = score_series([300, 600, 999], 1000, WINDOWS, STANDARD).raw  # 300 rows after: y = 3, sigmoid ~ -1
    assert far_after == pytest.approx(2.0 + 0.11 * scaled_sigmoid(3.0))


def test_probation_detections_are_ignored() -> None:
    assert score_series([10, 149], 1000, WINDOWS, STANDARD).false_positives == 0
    assert score_series([150], 1000, WINDOWS, STANDARD).false_positives == 1


def test_low_fn_profile_doubles_the_miss_cost_and_normalises_to_its_own_null() -> None:
    low_fn = DEFAULT_PROFILES[2]
    assert score_series([], 1000, WINDOWS, low_fn).raw == -4.0
    half = score_series([300], 1000, WINDOWS, low_fn).raw  # one perfect hit, one miss: 1 - 2
    assert normalised(half, 2, low_fn) == pytest.approx(100 * (-1 + 4) / (2 + 4))


@pytest.mark.dataset
@pytest.mark.skipif(not (NAB / "config" / "thresholds.json").is_file(), reason="NAB dataset not present")
def test_normalisation_reproduces_published_scores_from_their_raw_totals() -> None:
    """NAB's thresholds.json keeps each detector's raw total; with our window count they give final_results.json."""
    from eval.nab.data import load_corpus

    windows = sum(len(s.windows) for s in load_corpus(NAB))
    assert windows == 116
    raw = json.loads((NAB / "config" / "thresholds.json").read_text())
    final = json.loads((NAB / "results" / "final_results.json").read_text())
    profiles = {p.name: p for p in load_profiles(NAB)}
    assert set(profiles) == {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    for detector in ("ARTime", "numenta", "contextOSE", "relativeEntropy", "null"):
        for name, profile in profiles.items():
            assert normalised(raw[detector][name]["score"], windows, profile) == pytest.approx(
                final[detector][name], abs=1e-6)
