"""What triage adds to ingest: its inference time per report beside the embedding time per
report, both measured in the same run on the same Hadoop reports."""
from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone

import numpy as np

from context_store import EmbeddedStore, EventRecord, NewEvent
from engine.embedder import Embedder
from engine.triage.routing import RoutingRules
from engine.triage.service import TriageService
from eval.triage_data import Labelled

START = datetime(2026, 1, 5, 8, 0, tzinfo=timezone.utc)


def _record(i: int, row: Labelled) -> EventRecord:
    at = START + timedelta(minutes=i)
    return EventRecord(id=f"r{i}", kind="feedback", title=row.title, text=row.text, user_id=f"u{i % 40}",
                       systems=("hdfs",) if i % 2 else ("yarn",), channel=None, occurred_at=at, impact=None,
                       urgency=None, attributes={}, content_hash="", ingested_at=at)


def triage_cost(embedder: Embedder, rows: Sequence[Labelled], vectors: np.ndarray,
                embed_seconds: float, measured: int = 250) -> dict[str, float]:
    """Milliseconds per report: embedding (as measured by the caller) and triage inference over a
    store already holding the other reports (the neighbour search runs against them)."""
    records = [_record(i, r) for i, r in enumerate(rows)]
    split = max(0, len(records) - measured)
    store = EmbeddedStore(None, vectors.shape[1], embedder.name, 50_000)
    store.add_events([NewEvent(r, v) for r, v in zip(records[:split], vectors[:split])])
    service = TriageService(store, embedder, RoutingRules({"hdfs": "storage", "yarn": "compute"}))
    service.categories.classify(vectors[:1], [""])  # prototypes are embedded once per process, not per report
    started = time.perf_counter()
    service.prepare(records[split:], vectors[split:])
    triage_ms = 1000 * (time.perf_counter() - started) / max(1, len(records) - split)
    embed_ms = 1000 * embed_seconds / max(1, len(rows))
    store.close()
    return {"reports": float(len(records) - split), "embedding_ms": round(embed_ms, 2),
            "triage_ms": round(triage_ms, 3), "share_of_embedding": round(triage_ms / embed_ms, 4)}
