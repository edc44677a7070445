"""Labelled data for the triage evaluation: Banking77 queries mapped to categories per intent,
GitBugs Hadoop bug reports, and the hand-labelled sentiment fixture (see eval/fixtures/*.md)."""
from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

FIXTURES = Path(__file__).resolve().parent / "fixtures"
Split = Literal["dev", "test"]


@dataclass(frozen=True)
class Labelled:
    """A text (with an optional title) and its gold label."""

    title: str
    text: str
    label: str


def intent_categories() -> dict[str, str]:
    """Banking77 intent -> triage category (77 rows, decided per intent)."""
    with (FIXTURES / "banking77_categories.csv").open(newline="", encoding="utf-8") as handle:
        return {row["intent"]: row["category"] for row in csv.DictReader(handle)}


def banking77(datasets: Path, split: Split) -> list[Labelled]:
    """Banking77 queries with their intent's category (dev: train.csv, test: test.csv)."""
    mapping = intent_categories()
    path = datasets / "banking77" / ("train.csv" if split == "dev" else "test.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        return [Labelled("", row["text"], mapping[row["category"]]) for row in csv.DictReader(handle)]


def hadoop(datasets: Path, split: Split) -> list[Labelled]:
    """GitBugs Hadoop reports (Jira type Bug: gold software_bug); dev: first half in file order, test: second."""
    with (datasets / "gitbugs" / "hadoop" / "reports.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    half = len(rows) // 2
    chosen = rows[:half] if split == "dev" else rows[half:]
    return [Labelled(r.get("title") or "", r.get("description") or "", "software_bug") for r in chosen]


def sentiment_fixture(split: Split) -> list[Labelled]:
    """The hand-labelled support texts (dev: even ids, test: odd ids)."""
    with (FIXTURES / "sentiment_support.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    parity = 0 if split == "dev" else 1
    return [Labelled("", r["text"], r["label"]) for r in rows if int(r["id"][1:]) % 2 == parity]
