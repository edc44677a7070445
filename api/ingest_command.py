"""`hypercorr ingest`: validate rows, send them in batches, report accepted and rejected rows."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from tqdm import tqdm

from api.client import ClientError, HypercorrClient
from api.rows import read_rows
from engine import EventIn


@dataclass
class IngestSummary:
    """Counts and the reasons rows were rejected (line number, reason)."""

    created: int = 0
    unchanged: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)

    @property
    def accepted(self) -> int:
        """Rows stored or already present."""
        return self.created + self.unchanged


def _reason(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'row'}: {e['msg']}" for e in exc.errors())


def _send(client: HypercorrClient, batch: list[tuple[int, EventIn]], summary: IngestSummary) -> None:
    try:
        result = client.ingest([event for _, event in batch])
    except ClientError as exc:
        if exc.status != 409 or len(batch) == 1:
            summary.rejected.extend((line, f"refused ({exc.status}): {exc.detail}") for line, _ in batch)
            return
        for item in batch:  # find the conflicting rows one by one; the rest still land
            _send(client, [item], summary)
        return
    summary.created += result["created"]
    summary.unchanged += result["unchanged"]


def ingest_file(client: HypercorrClient, path: Path, batch_size: int) -> IngestSummary:
    """Ingest every valid row of a JSONL or CSV file; invalid rows are reported, not stored."""
    summary = IngestSummary()
    batch: list[tuple[int, EventIn]] = []
    with tqdm(desc=f"ingest {path.name}", unit="row") as progress:
        for line, row in read_rows(path):
            progress.update(1)
            if isinstance(row, str):
                summary.rejected.append((line, row))
                continue
            try:
                batch.append((line, EventIn.model_validate(row)))
            except ValidationError as exc:
                summary.rejected.append((line, _reason(exc)))
                continue
            if len(batch) >= batch_size:
                _send(client, batch, summary)
                batch = []
        if batch:
            _send(client, batch, summary)
    return summary
