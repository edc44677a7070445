"""Loaders for the evaluation data formats (see ../shared/datasets/README.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

SHARED_DATASETS = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets"


@dataclass(frozen=True)
class Report:
    """A bug report of a duplicate-retrieval set."""

    id: str
    created: datetime
    title: str
    description: str


@dataclass(frozen=True)
class RetrievalQuery:
    """A later duplicate and the ids of its earlier duplicates."""

    query_id: str
    created: datetime
    gold: frozenset[str]


def _utc(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_retrieval_set(folder: Path) -> tuple[list[Report], list[RetrievalQuery]]:
    """`reports.jsonl` (id, created, title, description) and `queries.jsonl`, reports in time order.

    Naive timestamps are read as UTC.
    """
    missing = [name for name in ("reports.jsonl", "queries.jsonl") if not (folder / name).exists()]
    if missing:
        raise FileNotFoundError(f"{folder} lacks {', '.join(missing)}")
    reports = [Report(str(r["id"]), _utc(r["created"]), r.get("title") or "", r.get("description") or "")
               for r in _jsonl(folder / "reports.jsonl")]
    reports.sort(key=lambda r: (r.created, r.id))
    queries = [RetrievalQuery(str(q["query_id"]), _utc(q["query_created"]), frozenset(map(str, q["gold_earlier_ids"])))
               for q in _jsonl(folder / "queries.jsonl")]
    return reports, queries
