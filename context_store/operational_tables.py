"""Operational context in the store: in-place event updates (alert status) and the service topology.

Shares the store's connection, lock and issue graph. Each public write is one SQLite
transaction (or joins the caller's, inside `store.transaction()`); the in-memory graph is
changed only after the commit, so it never shows what SQLite does not hold.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import networkx as nx

from context_store import topology_tables
from context_store.issue_graph import IssueGraph


@dataclass(frozen=True)
class AttributeUpdate:
    """Replace a stored event's attributes; `expected_hash` guards against a concurrent change."""

    event_id: str
    attributes: dict[str, str]
    content_hash: str
    expected_hash: str


class StaleUpdateError(Exception):
    """An event changed (or vanished) between reading it and updating it; nothing was written."""

    def __init__(self, ids: list[str]):
        super().__init__(f"events changed or vanished before the update: {', '.join(ids)}")
        self.ids = ids


class OperationalTables:
    """Event attribute updates and the durable service topology."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, graph: IssueGraph):
        self._conn = conn
        self._lock = lock
        self._graph = graph
        topology_tables.create_tables(conn)
        self._topology, self._updated_at = topology_tables.load(conn)
        graph.set_dependencies(self._topology)

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._lock:
            if self._conn.in_transaction:  # inside store.transaction(): the caller commits
                yield
                return
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # ---- event updates ------------------------------------------------------------
    def update_attributes(self, updates: Sequence[AttributeUpdate]) -> None:
        """Apply every update or none (one transaction).

        Only attributes and the content hash change: title, text, systems and time feed the
        vectors, the lexical index and the graph, and stay as first stored.
        """
        if not updates:
            return
        with self._transaction():
            stale = []
            for u in updates:
                cursor = self._conn.execute(
                    "UPDATE events SET attributes = ?, content_hash = ? WHERE id = ? AND content_hash = ?",
                    (json.dumps(u.attributes, sort_keys=True), u.content_hash, u.event_id, u.expected_hash))
                if cursor.rowcount != 1:
                    stale.append(u.event_id)
            if stale:
                raise StaleUpdateError(stale)

    # ---- topology -----------------------------------------------------------------
    def set_topology(self, topology: Mapping[str, Sequence[str]], updated_at: str) -> None:
        """Replace the service dependency graph (system -> systems it depends on), durably."""
        clean = {system: list(dict.fromkeys(deps)) for system, deps in topology.items()}
        with self._transaction():
            topology_tables.replace(self._conn, clean, updated_at)
        with self._lock:
            self._topology, self._updated_at = clean, updated_at
            self._graph.set_dependencies(clean)

    def topology(self) -> tuple[dict[str, list[str]], str | None]:
        """The stored graph (system -> depends_on) and when it was last replaced (None: never)."""
        with self._lock:
            return {s: list(d) for s, d in self._topology.items()}, self._updated_at

    @property
    def dependencies(self) -> nx.DiGraph:
        """The topology as a directed graph of system names (edge a -> b: a depends on b). Read only."""
        return self._graph.dependencies
