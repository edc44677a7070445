"""`hypercorr eval anomalies --nab DIR`: the stream detector over the NAB corpus, scored with NAB's profiles.

Every series runs through one `StreamDetector` with the same settings (no per-series tuning); the
only thing taken from the file is its length, for the silence after a detection (2 % of the rows,
as NAB hands a detector its whole file up front). Detections in the probationary period are not
scored (NAB's rule).
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from engine.anomalies.stream import StreamParams, detect_stream
from eval.nab.data import NabSeries, load_corpus
from eval.nab.scoring import Profile, load_profiles, normalised, score_series
from eval.report import print_table

REFRACTORY_FRACTION = 0.02
PUBLISHED = {"ARTime": (74.9, 65.1, 80.4), "Numenta HTM": (70.1, 63.1, 74.3), "KNN CAD": (58.0, 43.4, 64.8),
             "Windowed Gaussian (rolling z-score)": (39.6, 20.9, 47.4)}
JSON_KEYS = {"standard": "nab_standard", "reward_low_FP_rate": "nab_low_fp", "reward_low_FN_rate": "nab_low_fn"}


@dataclass(frozen=True)
class NabResult:
    """Normalised scores per profile and counts per category (standard profile)."""

    scores: dict[str, float]
    categories: dict[str, dict[str, float]]
    windows: int


def detections(series: NabSeries, params: StreamParams | None = None) -> list[int]:
    """The detector's detection rows on one series."""
    _, rows = detect_stream(series.timestamps, series.values, int(REFRACTORY_FRACTION * len(series)), params)
    return rows


def score_corpus(corpus: list[NabSeries], found: dict[str, list[int]], profiles: tuple[Profile, ...]) -> NabResult:
    """NAB scores of detections per series name."""
    windows = sum(len(s.windows) for s in corpus)
    raw = defaultdict(float)
    categories: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for s in corpus:
        for profile in profiles:
            result = score_series(found[s.name], len(s), s.windows, profile)
            raw[profile.name] += result.raw
            if profile.name == profiles[0].name:
                cat = categories[s.name.split("/")[0]]
                cat["series"] += 1
                cat["windows"] += len(s.windows)
                cat["tp"] += result.true_positives
                cat["fp"] += result.false_positives
                cat["fn"] += result.false_negatives
                cat["raw"] += result.raw
    scores = {p.name: normalised(raw[p.name], windows, p) for p in profiles}
    return NabResult(scores, {k: dict(v) for k, v in categories.items()}, windows)


def run_nab_eval(folder: Path, as_json: bool = False, params: StreamParams | None = None) -> NabResult:
    """Detect on every series, score, print the tables (and the JSON line last with --json)."""
    corpus = load_corpus(folder)
    profiles = load_profiles(folder)
    found = {s.name: detections(s, params) for s in tqdm(corpus, desc="NAB series", unit="series", leave=False)}
    result = score_corpus(corpus, found, profiles)
    first = profiles[0].name
    print(f"NAB corpus: {len(corpus)} series, {result.windows} windows; per category ({first} profile):")
    print_table(["category", "series", "windows", "TP", "FP", "FN", "raw"],
                [[name, int(c["series"]), int(c["windows"]), int(c["tp"]), int(c["fp"]), int(c["fn"]),
                  f"{c['raw']:.2f}"] for name, c in sorted(result.categories.items())])
    print()
    rows = [["hypercorr (this run)", *(f"{result.scores[p.name]:.1f}" for p in profiles)]]
    rows += [[f"{name} (published)", *(f"{v:.1f}" for v in values)] for name, values in PUBLISHED.items()]
    print_table(["detector", *(p.name for p in profiles)], rows)
    if as_json:
        print(json.dumps({JSON_KEYS.get(name, name): round(score, 2) for name, score in result.scores.items()}))
    return result
