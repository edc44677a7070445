"""Load NAB series and their labelled anomaly windows (`data/**.csv`, `labels/combined_windows.json`)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class NabSeries:
    """One NAB file: timestamps (seconds since epoch), values and its windows as inclusive row ranges."""

    name: str
    timestamps: np.ndarray
    values: np.ndarray
    windows: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.values)


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.strip()).timestamp()


def window_rows(timestamps: np.ndarray, windows: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Map [start, end] times onto the inclusive row range they cover (empty ranges are dropped)."""
    rows = []
    for start, end in windows:
        first = int(np.searchsorted(timestamps, start, side="left"))
        last = int(np.searchsorted(timestamps, end, side="right")) - 1
        if first <= last:
            rows.append((first, last))
    return rows


def load_series(path: Path, name: str, windows: list[list[str]]) -> NabSeries:
    """Read one `timestamp,value` CSV with its windows."""
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    timestamps = np.array([_epoch(r["timestamp"]) for r in rows], dtype=np.float64)
    values = np.array([float(r["value"]) for r in rows], dtype=np.float64)
    spans = [(_epoch(start), _epoch(end)) for start, end in windows]
    return NabSeries(name=name, timestamps=timestamps, values=values, windows=window_rows(timestamps, spans))


def load_corpus(folder: Path) -> list[NabSeries]:
    """Every series named in `labels/combined_windows.json`, in name order."""
    labels = folder / "labels" / "combined_windows.json"
    if not labels.is_file():
        raise FileNotFoundError(f"{labels} not found: --nab must point at a NAB checkout (data/, labels/)")
    windows: dict[str, list[list[str]]] = json.loads(labels.read_text())
    return [load_series(folder / "data" / name, name, spans) for name, spans in sorted(windows.items())]
