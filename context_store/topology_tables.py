"""Durable service topology: which system depends on which (one row per dependency edge).

The whole graph is replaced at once (`replace`) inside the caller's transaction, so a reader
sees either the old graph or the new one. Systems without dependencies are kept as rows with
an empty `depends_on` list so that a declared leaf survives a restart.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence

from context_store.sqlite_schema import get_meta, set_meta

TOPOLOGY_SCHEMA = """
CREATE TABLE IF NOT EXISTS topology_systems (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS topology_edges (
    system TEXT NOT NULL REFERENCES topology_systems (name) ON DELETE CASCADE,
    depends_on TEXT NOT NULL,
    PRIMARY KEY (system, depends_on)
);
"""


def create_tables(conn: sqlite3.Connection) -> None:
    """Create the topology tables if they are missing."""
    conn.executescript(TOPOLOGY_SCHEMA)


def replace(conn: sqlite3.Connection, topology: Mapping[str, Sequence[str]], updated_at: str) -> None:
    """Replace the stored graph with `topology` (system -> systems it depends on); no commit."""
    conn.execute("DELETE FROM topology_edges")
    conn.execute("DELETE FROM topology_systems")
    conn.executemany("INSERT INTO topology_systems (name) VALUES (?)", [(s,) for s in topology])
    conn.executemany("INSERT INTO topology_edges (system, depends_on) VALUES (?, ?)",
                     [(s, d) for s, deps in topology.items() for d in dict.fromkeys(deps)])
    set_meta(conn, "topology_updated_at", updated_at)


def load(conn: sqlite3.Connection) -> tuple[dict[str, list[str]], str | None]:
    """The stored graph (system -> depends_on, in insertion order) and when it was last replaced."""
    topology: dict[str, list[str]] = {name: [] for (name,) in
                                      conn.execute("SELECT name FROM topology_systems ORDER BY rowid")}
    for system, depends_on in conn.execute("SELECT system, depends_on FROM topology_edges ORDER BY rowid"):
        topology.setdefault(system, []).append(depends_on)
    return topology, get_meta(conn, "topology_updated_at")
