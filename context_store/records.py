"""Plain records exchanged between the engine and a context store.

The store is deliberately dumb: it persists and indexes what it is given and answers
structured queries. Everything that needs judgement (validation, embedding, scoring)
lives in the engine above it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True)
class EventRecord:
    """One stored report, alert or change, exactly as it was accepted."""

    id: str
    kind: str
    title: str
    text: str
    user_id: str | None
    systems: tuple[str, ...]
    channel: str | None
    occurred_at: datetime
    impact: str | None
    urgency: str | None
    attributes: dict[str, str]
    content_hash: str
    ingested_at: datetime
    seq: int = 0  # store-assigned, monotonically increasing, never reused


@dataclass(frozen=True)
class NewEvent:
    """An event ready to be stored: the record and its embeddings.

    `vector` embeds title and text together; `title_vector` the title alone (None when the
    event has no separate title, in which case `vector` stands in for it). The store derives
    the lexical terms itself, with the analyzer it was given.
    """

    record: EventRecord
    vector: np.ndarray
    title_vector: np.ndarray | None = None


@dataclass(frozen=True, slots=True)
class EventContext:
    """Who reported an event, on which systems, when: what context-aware ranking reads of it."""

    user_id: str | None
    systems: tuple[str, ...]
    occurred_at: datetime


@dataclass(frozen=True)
class EventFilter:
    """Structured restrictions on which stored events a query may return."""

    kinds: tuple[str, ...] = ()
    systems: tuple[str, ...] = ()
    user_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive upper bound
    exclude_seqs: tuple[int, ...] = ()

    def is_empty(self) -> bool:
        """True when the filter restricts nothing (exclusions aside)."""
        return not (self.kinds or self.systems or self.user_id or self.since or self.until)


class ScoredSeq(NamedTuple):
    """A candidate event (by store sequence number) with a raw score from one index (a named tuple:
    searches build many)."""

    seq: int
    score: float


@dataclass
class StoreStats:
    """Sizes of the store's parts, for health checks and benchmarks."""

    events: int
    vectors: int
    index_kind: str
    graph_nodes: int
    graph_edges: int
    extra: dict[str, int] = field(default_factory=dict)


class ConflictError(Exception):
    """Raised when ids already exist with different content; nothing was stored."""

    def __init__(self, ids: list[str]):
        super().__init__(f"ids already exist with different content: {', '.join(ids)}")
        self.ids = ids


class StoreMismatchError(Exception):
    """Raised when a data directory was built with another embedding model or dimension."""
