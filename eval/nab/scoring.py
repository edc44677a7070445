"""The NAB score, implemented from Lavin & Ahmad (2015) and Ahmad et al. (2017) and `config/profiles.json`.

Per series, after the probationary period (the first 15 % of rows, at most 750):
- the first detection inside an anomaly window earns `tp_weight * s(y) / s(-1)`, where
  s(y) = 2 / (1 + exp(5 y)) - 1 is the scaled sigmoid and y = -(rows from the detection to the
  window's end, inclusive) / window length, so y = -1 at the window's first row (full reward) and
  y -> 0 at its end; later detections in the same window are ignored;
- a detection outside every window is a false positive worth `fp_weight * s(y)` (negative), with
  y = rows since the end of the preceding window / that window's length: just after a window
  the penalty is small, far from it (y > 3) and before the first window it is the full -fp_weight;
- a window without a detection costs -fn_weight.
Raw scores add up over the corpus and are normalised so that the null detector (no detections,
-fn_weight per window) scores 0 and the perfect detector (a detection on every window's first
row, +tp_weight per window) scores 100.
"""
from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PROBATION_FRACTION = 0.15


@dataclass(frozen=True)
class Profile:
    """Application profile: weights of true positives, false negatives and false positives."""

    name: str
    tp_weight: float
    fp_weight: float
    fn_weight: float


DEFAULT_PROFILES = (Profile("standard", 1.0, 0.11, 1.0), Profile("reward_low_FP_rate", 1.0, 0.22, 1.0),
                    Profile("reward_low_FN_rate", 1.0, 0.11, 2.0))


def load_profiles(folder: Path | None) -> tuple[Profile, ...]:
    """Profiles from `config/profiles.json` under a NAB folder; NAB's published weights when absent."""
    path = folder / "config" / "profiles.json" if folder else None
    if path is None or not path.is_file():
        return DEFAULT_PROFILES
    raw = json.loads(path.read_text())
    return tuple(Profile(name, c["CostMatrix"]["tpWeight"], c["CostMatrix"]["fpWeight"], c["CostMatrix"]["fnWeight"])
                 for name, c in ((n, raw[n]) for n in raw))


def scaled_sigmoid(y: float) -> float:
    """2 / (1 + e^(5y)) - 1: +0.987 at y = -1, 0 at y = 0, towards -1 as y grows (exactly -1 beyond 3)."""
    if y > 3.0:
        return -1.0
    return 2.0 / (1.0 + math.exp(5.0 * y)) - 1.0


def probation_rows(length: int) -> int:
    """Rows at the start of a series where detections are not scored."""
    return int(min(math.floor(PROBATION_FRACTION * length), PROBATION_FRACTION * 5000))


@dataclass(frozen=True)
class SeriesScore:
    """One series under one profile."""

    raw: float
    true_positives: int
    false_positives: int
    false_negatives: int


def score_series(detections: Iterable[int], length: int, windows: Sequence[tuple[int, int]],
                 profile: Profile) -> SeriesScore:
    """Raw NAB score of detection rows against inclusive, sorted, disjoint window row ranges."""
    start_row = probation_rows(length)
    credited: set[int] = set()
    raw, fps = 0.0, 0
    w = 0  # index of the first window whose end is at or after the detection
    for row in sorted(set(detections)):
        if row < start_row or row >= length:
            continue
        while w < len(windows) and windows[w][1] < row:
            w += 1
        if w < len(windows) and windows[w][0] <= row:
            if w not in credited:
                credited.add(w)
                first, last = windows[w]
                y = -(last - row + 1) / (last - first + 1)
                raw += profile.tp_weight * scaled_sigmoid(y) / scaled_sigmoid(-1.0)
            continue
        fps += 1
        if w == 0:
            raw -= profile.fp_weight
        else:
            first, last = windows[w - 1]
            raw += profile.fp_weight * scaled_sigmoid((row - last) / (last - first + 1))
    missed = len(windows) - len(credited)
    raw -= profile.fn_weight * missed
    return SeriesScore(raw, len(credited), fps, missed)


def normalised(raw_total: float, window_count: int, profile: Profile) -> float:
    """100 * (raw - null) / (perfect - null) over a corpus with `window_count` windows."""
    null = -profile.fn_weight * window_count
    perfect = profile.tp_weight * window_count
    if perfect == null:
        return 0.0
    return 100.0 * (raw_total - null) / (perfect - null)
