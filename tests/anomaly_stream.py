"""The batch-job stream shared by the anomaly tests: steady errors, a nightly batch burst, an optional noon burst."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

START = datetime(2026, 3, 2, tzinfo=timezone.utc)  # a Monday: go-live
SPIKE = 25
BATCH_TEXT = "batch job row rejected"


def _row(i: int, at: datetime, system: str, text: str) -> dict[str, Any]:
    return {"id": f"e{i}", "kind": "alert", "title": text, "text": text, "systems": [system],
            "occurred_at": at.isoformat()}


def batch_stream(days: int, noon_spike_day: int | None, spike: int = SPIKE) -> list[dict[str, Any]]:
    """Errors on billing and crm every 3 hours; `spike` batch errors at 02:00 every night; the same at noon once."""
    out: list[dict[str, Any]] = []
    for day in range(days):
        base = START + timedelta(days=day)
        for hour in range(0, 24, 3):
            out.append(_row(len(out), base + timedelta(hours=hour, minutes=10), "billing", "invoice export error"))
            out.append(_row(len(out), base + timedelta(hours=hour, minutes=40), "crm", "contact sync warning"))
        for k in range(spike):
            out.append(_row(len(out), base + timedelta(hours=2, minutes=k * 2), "billing", BATCH_TEXT))
        if day == noon_spike_day:
            for k in range(spike):
                out.append(_row(len(out), base + timedelta(hours=12, minutes=k * 2), "billing", BATCH_TEXT))
    out.append(_row(len(out), START + timedelta(days=days, minutes=5), "crm", "contact sync warning"))
    return out
