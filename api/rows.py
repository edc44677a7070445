"""Reading event rows from JSONL and CSV files for `hypercorr ingest`."""
from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

EVENT_FIELDS = {"id", "kind", "title", "text", "user_id", "systems", "channel", "occurred_at", "impact",
                "urgency", "attributes"}


def _csv_row_to_event(row: dict[str, str]) -> dict[str, Any]:
    event: dict[str, Any] = {}
    attributes: dict[str, str] = {}
    for key, value in row.items():
        if key is None or value is None or value.strip() == "":
            continue
        if key == "systems":
            event["systems"] = [s.strip() for s in value.replace("|", ";").split(";") if s.strip()]
        elif key in EVENT_FIELDS:
            event[key] = value
        else:
            attributes[key] = value
    if attributes:
        event["attributes"] = attributes
    return event


def read_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | str]]:
    """Yield (line number, event dict) per row, or (line number, error text) for unreadable rows.

    JSONL: one JSON object per line. CSV: a header row; `systems` separated by ';' or '|';
    columns that are not event fields go into `attributes`.
    """
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8") as handle:
            for number, row in enumerate(csv.DictReader(handle), start=2):
                yield number, _csv_row_to_event(row)
        return
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, f"not JSON: {exc.msg}"
                continue
            yield number, value if isinstance(value, dict) else "not a JSON object"
