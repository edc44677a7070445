"""SQLite schema, connection settings and the meta key/value table.

SQLite is the record of truth. WAL mode with synchronous=FULL: a transaction that has
committed survives a process crash (kill -9) and a power cut.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = "1"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    user_id TEXT,
    channel TEXT,
    occurred_at TEXT NOT NULL,
    occurred_ts REAL NOT NULL,
    impact TEXT,
    urgency TEXT,
    attributes TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_user_time ON events (user_id, occurred_ts);
CREATE INDEX IF NOT EXISTS events_time ON events (occurred_ts);
CREATE TABLE IF NOT EXISTS event_systems (
    seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    system TEXT NOT NULL,
    occurred_ts REAL NOT NULL,
    PRIMARY KEY (seq, system)
);
CREATE INDEX IF NOT EXISTS event_systems_system_time ON event_systems (system, occurred_ts);
CREATE TABLE IF NOT EXISTS embeddings (
    seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    vector BLOB NOT NULL,
    title_vector BLOB
);
CREATE TABLE IF NOT EXISTS terms (id INTEGER PRIMARY KEY, term TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS event_terms (
    seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    length INTEGER NOT NULL,
    postings BLOB NOT NULL
);
"""


def connect(path: Path | None) -> sqlite3.Connection:
    """Open (and create) the database; `None` gives a private in-memory database."""
    target = ":memory:" if path is None else str(path)
    conn = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = ON")
    if path is not None:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(SCHEMA)
    _migrate(conn)
    if get_meta(conn, "schema_version") is None:
        set_meta(conn, "schema_version", SCHEMA_VERSION)
    return conn


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring a data directory written by an older version up to this schema."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(embeddings)")}
    if "title_vector" not in columns:
        conn.execute("ALTER TABLE embeddings ADD COLUMN title_vector BLOB")
    # Version 1 kept an FTS5 index; term counts in `event_terms` replace it (rebuilt at load).
    conn.execute("DROP TABLE IF EXISTS events_vocab")
    conn.execute("DROP TABLE IF EXISTS events_fts")


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    """Read one meta value."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else str(row[0])


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    """Write one meta value (inside the caller's transaction, if any)."""
    conn.execute("INSERT INTO meta (key, value) VALUES (?, ?) "
                 "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (key, value))
