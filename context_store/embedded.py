"""The embedded backend: SQLite (truth) + FAISS (vectors) + networkx (issue graph).

With `data_dir=None` everything lives in memory (the in-memory variant used by tests and
evaluations); with a directory, SQLite and the FAISS snapshot live there and a lock file
keeps a second process from opening the same store for writing.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import networkx as nx
import numpy as np

from context_store import consistency, sqlite_rows
from context_store.consistency import ConsistencyReport
from context_store.issue_graph import IssueGraph
from context_store.kb_tables import KbTables
from context_store.analysis import Analyzer, PlainAnalyzer
from context_store.lexical_index import LexicalIndex
from context_store.narrative_tables import NarrativeTables
from context_store.operational_tables import OperationalTables
from context_store.triage_tables import TriageTables
from context_store.records import (ConflictError, EventContext, EventFilter, EventRecord, NewEvent, ScoredSeq,
                                   StoreStats)
from context_store.seq_matrix import SeqMatrix
from context_store.sqlite_schema import connect, get_meta, set_meta
from context_store.store_guard import StoreLockedError, acquire_dir_lock, check_model
from context_store.vector_index import VectorIndex

log = logging.getLogger(__name__)


class EmbeddedStore:
    """ContextStore backed by SQLite, FAISS and networkx in this process."""

    def __init__(self, data_dir: Path | None, dim: int, model_name: str,
                 hnsw_threshold: int = 50_000, snapshot_every: int = 5_000, analyzer: Analyzer | None = None):
        self.data_dir = data_dir
        self.dim = dim
        self.snapshot_every = snapshot_every
        self._lock = threading.RLock()
        self._lock_file = acquire_dir_lock(data_dir) if data_dir else None
        self._conn = connect(data_dir / "hypercorr.sqlite3" if data_dir else None)
        check_model(self._conn, model_name, dim)
        self.narratives = NarrativeTables(self._conn, self._lock)
        self.triage = TriageTables(self._conn, self._lock)
        self.kb = KbTables(self._conn, self._lock, dim)
        self._lexical = LexicalIndex(self._conn, analyzer or PlainAnalyzer())
        self._lexical.load()
        self._index_options = {"hnsw_threshold": hnsw_threshold}
        self._index, self._snapshot_seq = self._load_or_rebuild_index()
        self._titles = SeqMatrix(dim)
        self._load_title_vectors()
        self._graph = IssueGraph()
        self._contexts: dict[int, EventContext] = {}
        self._rebuild_graph_and_contexts()
        self.operations = OperationalTables(self._conn, self._lock, self._graph)
        self._count = int(self._conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    # ---- start-up -----------------------------------------------------------------
    @property
    def _snapshot_path(self) -> Path | None:
        return self.data_dir / "vectors" if self.data_dir else None

    def _erase_generation(self) -> int:
        return int(get_meta(self._conn, "erase_generation") or 0)

    def _load_or_rebuild_index(self) -> tuple[VectorIndex, int]:
        """The index and the highest seq its on-disk snapshot holds (-1: no usable snapshot)."""
        index = None
        if self._snapshot_path is not None:
            index = VectorIndex.load(self._snapshot_path, self.dim, self._erase_generation(),
                                     **self._index_options)
            if index is None and self._snapshot_path.with_suffix(".faiss").exists():
                log.warning("vector snapshot is stale or unreadable; rebuilding it from SQLite")
            elif index is not None and len(index) != self._embeddings_upto(index.max_seq):
                log.warning("vector snapshot disagrees with SQLite (vector count); rebuilding it from SQLite")
                index = None
        snapshot_seq = index.max_seq if index is not None else -1
        index = index or VectorIndex(self.dim, **self._index_options)
        cursor = self._conn.execute("SELECT seq, vector FROM embeddings WHERE seq > ? ORDER BY seq",
                                    (index.max_seq,))
        while rows := cursor.fetchmany(4096):
            seqs = np.array([r[0] for r in rows], dtype=np.int64)
            vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, self.dim)
            index.add(seqs, vectors)
        return index, snapshot_seq

    def _embeddings_upto(self, seq: int) -> int:
        return int(self._conn.execute("SELECT COUNT(*) FROM embeddings WHERE seq <= ?", (seq,)).fetchone()[0])

    def _load_title_vectors(self) -> None:
        cursor = self._conn.execute("SELECT seq, COALESCE(title_vector, vector) FROM embeddings ORDER BY seq")
        while rows := cursor.fetchmany(4096):
            vectors = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.float32).reshape(-1, self.dim)
            self._titles.put([r[0] for r in rows], vectors)

    def _rebuild_graph_and_contexts(self) -> None:
        systems: dict[int, tuple[str, ...]] = {}
        for seq, system in self._conn.execute("SELECT seq, system FROM event_systems ORDER BY rowid"):
            systems[seq] = (*systems.get(seq, ()), system)
        rows = self._conn.execute("SELECT seq, id, kind, user_id, occurred_at FROM events").fetchall()
        self._graph.add_events((event_id, kind, user_id, systems.get(seq, ())) for seq, event_id, kind, user_id, _ in rows)
        self._contexts = {seq: EventContext(user_id, systems.get(seq, ()), datetime.fromisoformat(at))
                          for seq, _, _, user_id, at in rows}

    # ---- writes -------------------------------------------------------------------
    def add_events(self, events: Sequence[NewEvent],
                   after_insert: Callable[[list[int]], None] | None = None) -> list[int]:
        """Store events in one transaction, then index them; all or nothing.

        `after_insert` runs inside that transaction with the new seqs, to write companion rows
        (e.g. triage) that commit or roll back together with the events.
        """
        if not events:
            return []
        with self._lock:
            seqs = self._insert_rows(events, after_insert)
            self._count += len(seqs)
            vectors = np.stack([np.asarray(e.vector, dtype=np.float32) for e in events])
            self._index.add(np.array(seqs, dtype=np.int64), vectors)
            self._titles.put(seqs, np.stack([np.asarray(e.vector if e.title_vector is None else e.title_vector,
                                                        dtype=np.float32) for e in events]))
            self._graph.add_events((e.record.id, e.record.kind, e.record.user_id, e.record.systems) for e in events)
            for seq, event in zip(seqs, events):
                r = event.record
                self._contexts[seq] = EventContext(r.user_id, tuple(dict.fromkeys(r.systems)), r.occurred_at)
            if self._index.max_seq - max(self._snapshot_seq, 0) >= self.snapshot_every:
                self.checkpoint()
        return seqs

    def _insert_rows(self, events: Sequence[NewEvent],
                     after_insert: Callable[[list[int]], None] | None = None) -> list[int]:
        conn = self._conn
        seqs: list[int] = []
        conn.execute("BEGIN IMMEDIATE")
        try:
            for event in events:
                r = event.record
                cursor = conn.execute(
                    "INSERT INTO events (id, kind, title, text, user_id, channel, occurred_at, "
                    "occurred_ts, impact, urgency, attributes, content_hash, ingested_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", sqlite_rows.record_values(r))
                seq = int(cursor.lastrowid)
                seqs.append(seq)
                conn.executemany("INSERT INTO event_systems (seq, system, occurred_ts) VALUES (?, ?, ?)",
                                 [(seq, s, r.occurred_at.timestamp()) for s in dict.fromkeys(r.systems)])
                vector = np.ascontiguousarray(event.vector, dtype=np.float32).tobytes()
                title = None if event.title_vector is None else \
                    np.ascontiguousarray(event.title_vector, dtype=np.float32).tobytes()
                conn.execute("INSERT INTO embeddings (seq, vector, title_vector) VALUES (?, ?, ?)",
                             (seq, vector, title))
                self._lexical.stage(seq, r.title, r.text)
            if after_insert is not None:
                after_insert(seqs)
            conn.execute("COMMIT")
        except Exception as exc:
            conn.execute("ROLLBACK")
            self._lexical.rollback()
            if "UNIQUE constraint failed: events.id" in str(exc):
                raise ConflictError([e.record.id for e in events]) from exc
            raise
        self._lexical.commit()
        return seqs

    def delete_user(self, user_id: str) -> int:
        """Erase a user's events from rows, vectors, lexical index and graph."""
        with self._lock:
            rows = self._conn.execute("SELECT seq, id FROM events WHERE user_id = ?", (user_id,)).fetchall()
            seqs = [r[0] for r in rows]
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._lexical.stage_removal(seqs)
                for chunk, marks in sqlite_rows.in_chunks(seqs):
                    self._conn.execute(f"DELETE FROM events WHERE seq IN ({marks})", chunk)
                self.narratives.forget_events([r[1] for r in rows])
                self.kb.forget_user(user_id)
                set_meta(self._conn, "erase_generation", str(self._erase_generation() + 1))
                self._conn.execute("COMMIT")
            except Exception:
                self._conn.execute("ROLLBACK")
                self._lexical.rollback()
                raise
            self._lexical.commit()
            self._titles.clear(seqs)
            for seq in seqs:
                self._contexts.pop(seq, None)
            self._count -= len(seqs)
            self._index.remove(np.array(seqs, dtype=np.int64))
            self._graph.remove_events(r[1] for r in rows)
            self._graph.remove_user(user_id)
            self.checkpoint(force=True)
        return len(seqs)

    @contextmanager
    def transaction(self) -> Iterator[NarrativeTables]:
        """Run several narrative-table changes as one SQLite transaction (all or nothing)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self.narratives
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def verify(self) -> ConsistencyReport:
        """Compare the vector index and the issue graph with SQLite (reads every id: an operator's check)."""
        with self._lock:
            return consistency.check(self._conn, self._index.live_ids(), self._graph.graph)

    def checkpoint(self, force: bool = False) -> None:
        """Write the vector snapshot if anything changed since the last one."""
        with self._lock:
            if self._snapshot_path is None:
                return
            if force or self._index.max_seq != self._snapshot_seq:
                self._index.save(self._snapshot_path, self._erase_generation())
                self._snapshot_seq = self._index.max_seq

    def close(self) -> None:
        """Checkpoint, close SQLite and release the directory lock."""
        with self._lock:
            self.checkpoint()
            self._conn.close()
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None

    # ---- reads --------------------------------------------------------------------
    def content_hashes(self, ids: Iterable[str]) -> dict[str, str]:
        """Stored content hashes of the ids that exist."""
        ids = list(dict.fromkeys(ids))
        found: dict[str, str] = {}
        with self._lock:
            for chunk, marks in sqlite_rows.in_chunks(ids):
                found.update(self._conn.execute(
                    f"SELECT id, content_hash FROM events WHERE id IN ({marks})", chunk).fetchall())
        return found

    def _select(self, where: str, params: Sequence[object]) -> list[EventRecord]:
        with self._lock:
            rows = self._conn.execute(
                f"SELECT {sqlite_rows.EVENT_COLUMNS} FROM events e WHERE {where}", params).fetchall()
            return sqlite_rows.rows_to_records(self._conn, rows)

    def get_event(self, event_id: str) -> EventRecord | None:
        """One event by client id."""
        found = self._select("e.id = ?", (event_id,))
        return found[0] if found else None

    def get_events(self, seqs: Sequence[int]) -> dict[int, EventRecord]:
        """Events by sequence number."""
        result: dict[int, EventRecord] = {}
        for chunk, marks in sqlite_rows.in_chunks(seqs):
            result.update((r.seq, r) for r in self._select(f"e.seq IN ({marks})", chunk))
        return result

    def get_vectors(self, seqs: Sequence[int]) -> np.ndarray:
        """Stored vectors for `seqs` in order (zeros for unknown seqs)."""
        out = np.zeros((len(seqs), self.dim), dtype=np.float32)
        with self._lock:
            present = [(i, s) for i, s in enumerate(seqs) if 0 < s <= self._index.max_seq]
            if present:
                try:
                    out[[i for i, _ in present]] = self._index.reconstruct(np.array([s for _, s in present]))
                except RuntimeError:  # an unknown seq: fall back to the record of truth
                    for i, seq in present:
                        row = self._conn.execute("SELECT vector FROM embeddings WHERE seq = ?", (seq,)).fetchone()
                        if row is not None:
                            out[i] = np.frombuffer(row[0], dtype=np.float32)
        return out

    def get_contexts(self, seqs: Sequence[int]) -> dict[int, EventContext]:
        """User, systems and time of stored events, from memory (unknown seqs are left out)."""
        with self._lock:
            return {s: self._contexts[s] for s in seqs if s in self._contexts}

    def get_title_vectors(self, seqs: Sequence[int]) -> np.ndarray:
        """Title-only vectors for `seqs` in order (the full vector where there is none; zeros if unknown)."""
        with self._lock:
            return self._titles.get(seqs)

    def _allowed_seqs(self, event_filter: EventFilter | None) -> np.ndarray | None:
        if event_filter is None or event_filter.is_empty():
            return None
        where, params = sqlite_rows.filter_sql(event_filter)
        rows = self._conn.execute(f"SELECT e.seq FROM events e WHERE 1 = 1{where}", params).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64)

    def vector_search(self, vector: np.ndarray, k: int,
                      event_filter: EventFilter | None = None) -> list[ScoredSeq]:
        """Nearest events by inner product, honouring the filter."""
        with self._lock:
            allowed = self._allowed_seqs(event_filter)
            exclude = set(event_filter.exclude_seqs) if event_filter else set()
            return self._index.search(vector, k, allowed=allowed, exclude=exclude)

    def lexical_search(self, terms: Sequence[str], k: int, event_filter: EventFilter | None = None,
                       column_weights: tuple[float, float] = (1.0, 1.0)) -> list[ScoredSeq]:
        """BM25 over an OR of terms; scores are positive, higher is better."""
        with self._lock:
            allowed = self._allowed_seqs(event_filter)
            exclude = event_filter.exclude_seqs if event_filter else ()
            return self._lexical.search(terms, k, allowed, exclude, column_weights)

    def lexical_self_score(self, terms: Sequence[str], seq: int,
                           column_weights: tuple[float, float] = (1.0, 1.0)) -> float:
        """BM25 of a stored event against an OR of `terms` (its own best possible match), or 0."""
        with self._lock:
            return self._lexical.self_score(terms, seq, column_weights)

    def prepare_lexical(self, column_weights: tuple[float, float]) -> None:
        """Weigh every posting list for these column weights now, so no search pays for it later."""
        with self._lock:
            self._lexical.prepare(column_weights)

    def terms_contained(self, terms: Sequence[str], seqs: Sequence[int]) -> dict[int, list[str]]:
        """For each event in `seqs`, which of `terms` it contains (in the order given)."""
        with self._lock:
            return self._lexical.terms_contained(terms, seqs)

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """Document frequency of each term in the lexical index."""
        with self._lock:
            return self._lexical.document_frequencies(terms)

    def _history(self, column_sql: str, key: str, since: datetime | None, until: datetime | None,
                 limit: int, offset: int) -> list[EventRecord]:
        where, params = sqlite_rows.filter_sql(EventFilter(since=since, until=until))
        return self._select(f"{column_sql}{where} ORDER BY e.occurred_ts, e.seq LIMIT ? OFFSET ?",
                            (key, *params, limit, offset))

    def user_history(self, user_id: str, since: datetime | None = None, until: datetime | None = None,
                     limit: int = 100, offset: int = 0) -> list[EventRecord]:
        """A user's events in time order."""
        return self._history("e.user_id = ?", user_id, since, until, limit, offset)

    def system_history(self, system: str, since: datetime | None = None, until: datetime | None = None,
                       limit: int = 100, offset: int = 0) -> list[EventRecord]:
        """A system's events in time order."""
        return self._history("e.seq IN (SELECT seq FROM event_systems WHERE system = ?)", system,
                             since, until, limit, offset)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The issue graph."""
        return self._graph.graph

    def systems_of_user(self, user_id: str) -> set[str]:
        """Systems a user has reported on (from the issue graph)."""
        with self._lock:
            return self._graph.systems_of_user(user_id)

    def latest_time(self) -> datetime | None:
        """When the most recent stored event happened (the stream's clock)."""
        with self._lock:
            row = self._conn.execute("SELECT occurred_at FROM events ORDER BY occurred_ts DESC LIMIT 1").fetchone()
        return datetime.fromisoformat(row[0]) if row else None

    def count(self) -> int:
        """Number of stored events (kept in step with every commit; no query per call)."""
        return self._count

    def stats(self) -> StoreStats:
        """Sizes of rows, vectors and graph."""
        with self._lock:
            return StoreStats(events=self.count(), vectors=len(self._index), index_kind=self._index.kind,
                              graph_nodes=self._graph.graph.number_of_nodes(),
                              graph_edges=self._graph.graph.number_of_edges())
