"""Durable triage state: each feedback event's inferred enrichment, a person's overrides, and
which team resolved an event's narrative (the routing refinement's labels).

Plain SQL over the store's connection and lock. Inferred rows are written inside the event
insert's transaction (`EmbeddedStore.add_events(..., after_insert=...)`); every row is keyed by
the event's seq and cascades when the event is erased.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from context_store.sqlite_rows import in_chunks

TRIAGE_SCHEMA = """
CREATE TABLE IF NOT EXISTS triage (
    seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    inferred TEXT NOT NULL,
    inferred_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS triage_overrides (
    seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (seq, field)
);
CREATE TABLE IF NOT EXISTS team_labels (
    seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    team TEXT NOT NULL,
    source TEXT NOT NULL,
    at TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class OverrideRow:
    """A person's value for one triage field of one event."""

    seq: int
    field: str
    value: str
    by: str
    at: datetime


class TriageTables:
    """SQL for triage rows over one SQLite connection (the caller runs writes in a transaction)."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock):
        self._conn = conn
        self._lock = lock
        conn.executescript(TRIAGE_SCHEMA)

    def put_inferred(self, rows: Iterable[tuple[int, dict[str, object]]], at: datetime) -> None:
        """Store (or replace) the inferred enrichment of events."""
        with self._lock:
            self._conn.executemany(
                "INSERT OR REPLACE INTO triage (seq, inferred, inferred_at) VALUES (?, ?, ?)",
                [(seq, json.dumps(value, sort_keys=True), at.isoformat()) for seq, value in rows])

    def inferred(self, seqs: Sequence[int]) -> dict[int, dict[str, object]]:
        """The inferred enrichment of each seq that has one."""
        found: dict[int, dict[str, object]] = {}
        with self._lock:
            for chunk, marks in in_chunks(seqs):
                found.update((seq, json.loads(value)) for seq, value in self._conn.execute(
                    f"SELECT seq, inferred FROM triage WHERE seq IN ({marks})", chunk))
        return found

    def set_override(self, seq: int, field: str, value: str | None, by: str, at: datetime) -> None:
        """Record a person's value for a field (None removes the override)."""
        with self._lock:
            if value is None:
                self._conn.execute("DELETE FROM triage_overrides WHERE seq = ? AND field = ?", (seq, field))
                return
            self._conn.execute(
                "INSERT INTO triage_overrides (seq, field, value, by, at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (seq, field) DO UPDATE SET value = excluded.value, by = excluded.by, at = excluded.at",
                (seq, field, value, by, at.isoformat()))

    def overrides(self, seqs: Sequence[int]) -> dict[int, list[OverrideRow]]:
        """Every override of the given seqs."""
        found: dict[int, list[OverrideRow]] = {}
        with self._lock:
            for chunk, marks in in_chunks(seqs):
                for seq, field, value, by, at in self._conn.execute(
                        f"SELECT seq, field, value, by, at FROM triage_overrides WHERE seq IN ({marks})", chunk):
                    found.setdefault(seq, []).append(OverrideRow(seq, field, value, by, datetime.fromisoformat(at)))
        return found

    def set_team_labels(self, seqs: Sequence[int], team: str, source: str, at: datetime) -> None:
        """Record that `team` handled these events (`source`: "resolved" or "override")."""
        with self._lock:
            self._conn.executemany(
                "INSERT INTO team_labels (seq, team, source, at) VALUES (?, ?, ?, ?) ON CONFLICT (seq) DO UPDATE "
                "SET team = excluded.team, source = excluded.source, at = excluded.at",
                [(seq, team, source, at.isoformat()) for seq in seqs])

    def clear_team_label(self, seq: int, source: str) -> None:
        """Drop an event's team label if it came from `source`."""
        with self._lock:
            self._conn.execute("DELETE FROM team_labels WHERE seq = ? AND source = ?", (seq, source))

    def team_labels(self, seqs: Sequence[int]) -> dict[int, str]:
        """The known team of each labelled seq among `seqs`."""
        found: dict[int, str] = {}
        with self._lock:
            for chunk, marks in in_chunks(seqs):
                found.update(self._conn.execute(f"SELECT seq, team FROM team_labels WHERE seq IN ({marks})", chunk))
        return found

    def has_team_labels(self) -> bool:
        """Whether any team label exists (routing refinement has something to learn from)."""
        with self._lock:
            return self._conn.execute("SELECT 1 FROM team_labels LIMIT 1").fetchone() is not None

    def untriaged_seqs(self, kind: str = "feedback") -> list[int]:
        """Stored events of `kind` without an inferred row (a store written before triage existed)."""
        with self._lock:
            return [r[0] for r in self._conn.execute(
                "SELECT seq FROM events WHERE kind = ? AND seq NOT IN (SELECT seq FROM triage) ORDER BY seq", (kind,))]
