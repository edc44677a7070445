"""The one storage interface every context-store backend implements."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Protocol, runtime_checkable

import networkx as nx
import numpy as np

from context_store.kb_tables import KbTables
from context_store.consistency import ConsistencyReport
from context_store.narrative_tables import NarrativeTables
from context_store.operational_tables import OperationalTables
from context_store.triage_tables import TriageTables
from context_store.records import EventContext, EventFilter, EventRecord, NewEvent, ScoredSeq, StoreStats


@runtime_checkable
class ContextStore(Protocol):
    """Durable model context: event records, their vectors, a lexical index and an issue graph.

    Writes are atomic per call: `add_events` either stores every event it is given or none.
    Narrative state lives in `narratives`; group several of its changes with `transaction()`.
    """

    narratives: NarrativeTables
    operations: OperationalTables  # in-place event attribute updates, the service topology
    triage: TriageTables
    kb: KbTables  # knowledge-base articles, their vectors and verdicts

    def transaction(self) -> AbstractContextManager[NarrativeTables]:
        """One SQLite transaction around several narrative-table changes."""
        ...

    def add_events(self, events: Sequence[NewEvent],
                   after_insert: Callable[[list[int]], None] | None = None) -> list[int]:
        """Store events in one transaction and index them; returns their sequence numbers.

        `after_insert(seqs)` runs inside the transaction (companion rows commit with the events)."""
        ...

    def content_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """Map each already-stored id among `ids` to its content hash."""
        ...

    def get_event(self, event_id: str) -> EventRecord | None:
        """One event by its client id, or None."""
        ...

    def get_events(self, seqs: Sequence[int]) -> dict[int, EventRecord]:
        """Events by sequence number (missing ones are absent from the result)."""
        ...

    def get_vectors(self, seqs: Sequence[int]) -> np.ndarray:
        """Stored embeddings for `seqs`, in the same order (rows of zeros for unknown seqs)."""
        ...

    def get_contexts(self, seqs: Sequence[int]) -> dict[int, EventContext]:
        """User, systems and time of stored events (served from memory; unknown seqs are left out)."""
        ...

    def get_title_vectors(self, seqs: Sequence[int]) -> np.ndarray:
        """Title-only vectors for `seqs` in order (the full vector where an event has none)."""
        ...

    def vector_search(
        self, vector: np.ndarray, k: int, event_filter: EventFilter | None = None
    ) -> list[ScoredSeq]:
        """Nearest events by inner product (cosine on normalised vectors), best first."""
        ...

    def lexical_search(
        self,
        terms: Sequence[str],
        k: int,
        event_filter: EventFilter | None = None,
        column_weights: tuple[float, float] = (1.0, 1.0),
    ) -> list[ScoredSeq]:
        """Best BM25 matches (higher is better) for an OR of `terms`, best first."""
        ...

    def lexical_self_score(self, terms: Sequence[str], seq: int,
                           column_weights: tuple[float, float] = (1.0, 1.0)) -> float:
        """BM25 of stored event `seq` against an OR of `terms`: the scale for normalising others."""
        ...

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many stored events contain each term (absent terms map to 0)."""
        ...

    def prepare_lexical(self, column_weights: tuple[float, float]) -> None:
        """Weigh every posting list for these column weights now, so no search pays for it later."""
        ...

    def terms_contained(self, terms: Sequence[str], seqs: Sequence[int]) -> dict[int, list[str]]:
        """For each stored event in `seqs`, which of `terms` its lexical index entry holds."""
        ...

    def user_history(
        self, user_id: str, since: datetime | None = None, until: datetime | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[EventRecord]:
        """A user's events in time order, optionally within [since, until)."""
        ...

    def system_history(
        self, system: str, since: datetime | None = None, until: datetime | None = None,
        limit: int = 100, offset: int = 0,
    ) -> list[EventRecord]:
        """Events that affect a system, in time order, optionally within [since, until)."""
        ...

    def delete_user(self, user_id: str) -> int:
        """Erase every event of a user from rows, vectors, lexical index and graph."""
        ...

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The issue graph (event, user and system nodes); read it, do not mutate it."""
        ...

    def latest_time(self) -> datetime | None:
        """When the most recent stored event happened (the stream's clock)."""
        ...

    def count(self) -> int:
        """Number of stored events."""
        ...

    def stats(self) -> StoreStats:
        """Sizes of the store's parts."""
        ...

    def verify(self) -> ConsistencyReport:
        """Whether the vector index and issue graph agree with the stored rows."""
        ...

    def checkpoint(self) -> None:
        """Persist derived indexes (vector snapshot) so a restart loads instead of rebuilds."""
        ...

    def close(self) -> None:
        """Checkpoint and release resources."""
        ...
