"""Turning validated events into stored ones: idempotency, conflicts, embedding, one commit."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Literal

import numpy as np

from context_store import ConflictError, ContextStore, EventRecord, NewEvent
from engine import text as textprep
from engine.embedder import Embedder
from engine.events import EventIn
from engine.triage.model import TriageView


@dataclass(frozen=True)
class IngestOutcome:
    """What happened to one submitted event (and, once assigned, its narrative)."""

    id: str
    status: Literal["created", "unchanged"]
    narrative_id: str | None = None
    triage: TriageView | None = None  # feedback only, attached by the engine after the commit


@dataclass(frozen=True)
class StoredBatch:
    """The outcome per submitted event, and the newly stored records (with seqs) and vectors."""

    outcomes: list[IngestOutcome]
    records: list[EventRecord]
    vectors: np.ndarray


def to_record(event: EventIn, ingested_at: datetime) -> EventRecord:
    """The store record of a validated event."""
    return EventRecord(
        id=event.id, kind=event.kind.value, title=event.title, text=event.text, user_id=event.user_id,
        systems=tuple(event.systems), channel=event.channel, occurred_at=event.resolved_time(),
        impact=event.impact.value if event.impact else None,
        urgency=event.urgency.value if event.urgency else None, attributes=dict(event.attributes),
        content_hash=event.content_hash(), ingested_at=ingested_at)


def embed_records(embedder: Embedder, records: Sequence[EventRecord]) -> tuple[np.ndarray, list[np.ndarray | None]]:
    """Each record's full-text vector and, where it has both a title and a text, a title vector.

    An embedder with `embed_titled` gets titles and bodies as parts (no extra model work for
    the titles); any other embedder embeds "title. body" and the titles, in one call.
    """
    titled = [i for i, r in enumerate(records) if r.title and r.text]
    if hasattr(embedder, "embed_titled"):
        full, titles = embedder.embed_titled([r.title for r in records],
                                             [r.text[: textprep.EMBED_CHAR_LIMIT] for r in records])
        return full, [titles[i] if r.title and r.text else None for i, r in enumerate(records)]
    texts = [textprep.embedding_text(r.title, r.text) for r in records] + [records[i].title for i in titled]
    vectors = embedder.embed(texts)
    title_vectors: list[np.ndarray | None] = [None] * len(records)
    for offset, i in enumerate(titled):
        title_vectors[i] = vectors[len(records) + offset]
    return vectors[: len(records)], title_vectors


Enricher = Callable[[Sequence[EventRecord], np.ndarray], Callable[[list[int]], None] | None]


def ingest_batch(store: ContextStore, embedder: Embedder, events: Sequence[EventIn],
                 enrich: Enricher | None = None) -> StoredBatch:
    """Store a batch all-or-nothing.

    `enrich(records, vectors)` may return a writer of companion rows (e.g. triage) that runs
    inside the events' insert transaction with their seqs.

    A known id with the same content is a no-op ("unchanged"); a known id with other content,
    or one id twice in the batch with different content, raises ConflictError and stores nothing.
    The caller serialises calls (the engine holds its write lock).
    """
    hashes: dict[str, str] = {}
    for event in events:
        digest = event.content_hash()
        if hashes.setdefault(event.id, digest) != digest:
            raise ConflictError([event.id])
    stored = store.content_hashes(hashes)
    conflicts = [i for i, h in stored.items() if hashes[i] != h]
    if conflicts:
        raise ConflictError(sorted(conflicts))
    now = datetime.now(timezone.utc)
    fresh: dict[str, EventIn] = {}
    for event in events:
        if event.id not in stored:
            fresh.setdefault(event.id, event)
    records = [to_record(e, now) for e in fresh.values()]
    if not records:
        return StoredBatch([IngestOutcome(e.id, "unchanged") for e in events], [], np.zeros((0, embedder.dim)))
    vectors, title_vectors = embed_records(embedder, records)
    writer = enrich(records, vectors) if enrich is not None else None
    seqs = store.add_events([NewEvent(r, v, t) for r, v, t in zip(records, vectors, title_vectors)], writer)
    outcomes = [IngestOutcome(e.id, "unchanged" if e.id in stored or e is not fresh.get(e.id) else "created")
                for e in events]
    return StoredBatch(outcomes, [replace(r, seq=s) for r, s in zip(records, seqs)], vectors)
