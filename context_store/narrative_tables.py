"""Durable narrative state: narratives, memberships, links with evidence, feedback, lineage.

Plain SQL over the store's connection; the caller holds the store lock and, for multi-step
changes, wraps them in `EmbeddedStore.transaction()`.
"""
from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from context_store.sqlite_rows import in_chunks
from context_store.sqlite_schema import get_meta, set_meta

T = TypeVar("T")

NARRATIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS narratives (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    resolved_at TEXT,
    parent_id TEXT,
    absorbed_into TEXT
);
CREATE TABLE IF NOT EXISTS narrative_members (
    seq INTEGER PRIMARY KEY REFERENCES events (seq) ON DELETE CASCADE,
    narrative_id TEXT NOT NULL REFERENCES narratives (id),
    micro_root INTEGER NOT NULL,
    nn REAL NOT NULL,
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS narrative_members_by_narrative ON narrative_members (narrative_id);
CREATE TABLE IF NOT EXISTS links (
    later_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    earlier_seq INTEGER NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
    score REAL NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (later_seq, earlier_seq)
);
CREATE INDEX IF NOT EXISTS links_by_earlier ON links (earlier_seq);
CREATE TABLE IF NOT EXISTS link_feedback (
    first_id TEXT NOT NULL,
    second_id TEXT NOT NULL,
    verdict TEXT NOT NULL,
    given_at TEXT NOT NULL,
    PRIMARY KEY (first_id, second_id)
);
CREATE TABLE IF NOT EXISTS lineage (
    narrative_id TEXT NOT NULL,
    relation TEXT NOT NULL,
    other_id TEXT NOT NULL,
    at TEXT NOT NULL,
    by TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lineage_by_narrative ON lineage (narrative_id);
"""


@dataclass(frozen=True)
class NarrativeRow:
    """A narrative's own row (its members and derived views live elsewhere)."""

    id: str
    created_at: datetime
    resolved_at: datetime | None
    parent_id: str | None
    absorbed_into: str | None


@dataclass(frozen=True)
class MemberRow:
    """An event's place: its narrative, its micro-cluster (by first member's seq), its nn similarity."""

    seq: int
    narrative_id: str
    micro_root: int
    nn: float
    assigned_by: str  # "auto" or "person"


@dataclass(frozen=True)
class LinkRow:
    """A scored link from a later event to an earlier one, with its evidence."""

    later_seq: int
    earlier_seq: int
    score: float
    evidence: dict[str, object]


@dataclass(frozen=True)
class LineageRow:
    """One lineage fact: `narrative_id` was `relation` (merged_into, split_from, absorbed) `other_id`."""

    narrative_id: str
    relation: str
    other_id: str
    at: datetime
    by: str


def _locked(method: Callable[..., T]) -> Callable[..., T]:
    """Run a method under the store's (re-entrant) lock: one connection, many threads."""
    @functools.wraps(method)
    def wrapper(self: "NarrativeTables", *args: object, **kwargs: object) -> T:
        with self._lock:
            return method(self, *args, **kwargs)
    return wrapper


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def pair_key(a: str, b: str) -> tuple[str, str]:
    """Feedback is about an unordered pair of event ids."""
    return (a, b) if a <= b else (b, a)


class NarrativeTables:
    """SQL for narratives over one SQLite connection."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock):
        self._conn = conn
        self._lock = lock
        conn.executescript(NARRATIVE_SCHEMA)

    # ---- narratives ---------------------------------------------------------------
    @_locked
    def create(self, at: datetime, parent_id: str | None = None) -> str:
        """A new narrative with the next stable id (N-000001, N-000002, ...); ids are never reused."""
        number = int(get_meta(self._conn, "narrative_counter") or 0) + 1
        set_meta(self._conn, "narrative_counter", str(number))
        narrative_id = f"N-{number:06d}"
        self._conn.execute("INSERT INTO narratives (id, created_at, parent_id) VALUES (?, ?, ?)",
                           (narrative_id, at.isoformat(), parent_id))
        return narrative_id

    @_locked
    def get(self, narrative_id: str) -> NarrativeRow | None:
        """One narrative row, absorbed or not."""
        row = self._conn.execute("SELECT id, created_at, resolved_at, parent_id, absorbed_into FROM narratives "
                                 "WHERE id = ?", (narrative_id,)).fetchone()
        return None if row is None else NarrativeRow(row[0], datetime.fromisoformat(row[1]), _time(row[2]),
                                                     row[3], row[4])

    @_locked
    def survivor(self, narrative_id: str) -> str | None:
        """Follow merges to the narrative that now holds this one's members (itself if live)."""
        seen: set[str] = set()
        current: str | None = narrative_id
        while current is not None and current not in seen:
            seen.add(current)
            row = self.get(current)
            if row is None:
                return None
            if row.absorbed_into is None:
                return row.id
            current = row.absorbed_into
        return None

    @_locked
    def live_ids(self) -> list[str]:
        """Narratives not absorbed into another."""
        return [r[0] for r in self._conn.execute("SELECT id FROM narratives WHERE absorbed_into IS NULL ORDER BY id")]

    @_locked
    def set_resolved(self, narrative_id: str, at: datetime | None) -> None:
        """Mark resolved at `at`, or reopen with None."""
        self._conn.execute("UPDATE narratives SET resolved_at = ? WHERE id = ?",
                           (at.isoformat() if at else None, narrative_id))

    @_locked
    def absorb(self, absorbed: str, survivor: str, at: datetime, by: str) -> None:
        """Move every member of `absorbed` into `survivor` and record the lineage both ways."""
        self._conn.execute("UPDATE narrative_members SET narrative_id = ? WHERE narrative_id = ?", (survivor, absorbed))
        self._conn.execute("UPDATE narratives SET absorbed_into = ? WHERE id = ?", (survivor, absorbed))
        self.add_lineage(absorbed, "merged_into", survivor, at, by)
        self.add_lineage(survivor, "absorbed", absorbed, at, by)

    @_locked
    def add_lineage(self, narrative_id: str, relation: str, other_id: str, at: datetime, by: str) -> None:
        """Record one lineage fact."""
        self._conn.execute("INSERT INTO lineage (narrative_id, relation, other_id, at, by) VALUES (?, ?, ?, ?, ?)",
                           (narrative_id, relation, other_id, at.isoformat(), by))

    @_locked
    def lineage(self, narrative_id: str) -> list[LineageRow]:
        """Lineage facts of a narrative, oldest first."""
        rows = self._conn.execute("SELECT narrative_id, relation, other_id, at, by FROM lineage "
                                  "WHERE narrative_id = ? ORDER BY rowid", (narrative_id,))
        return [LineageRow(r[0], r[1], r[2], datetime.fromisoformat(r[3]), r[4]) for r in rows]

    # ---- members ------------------------------------------------------------------
    @_locked
    def assign(self, rows: Iterable[MemberRow], at: datetime) -> None:
        """Insert or update memberships."""
        self._conn.executemany(
            "INSERT INTO narrative_members (seq, narrative_id, micro_root, nn, assigned_by, assigned_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO UPDATE SET narrative_id = excluded.narrative_id, "
            "micro_root = excluded.micro_root, nn = excluded.nn, assigned_by = excluded.assigned_by, "
            "assigned_at = excluded.assigned_at",
            [(r.seq, r.narrative_id, r.micro_root, r.nn, r.assigned_by, at.isoformat()) for r in rows])

    @_locked
    def narrative_of(self, seqs: Sequence[int]) -> dict[int, str]:
        """The narrative of each assigned seq."""
        found: dict[int, str] = {}
        for chunk, marks in in_chunks(seqs):
            found.update(self._conn.execute(
                f"SELECT seq, narrative_id FROM narrative_members WHERE seq IN ({marks})", chunk).fetchall())
        return found

    @_locked
    def members(self, narrative_id: str) -> list[tuple[int, str]]:
        """(seq, assigned_by) of a narrative's members, in seq order."""
        return self._conn.execute("SELECT seq, assigned_by FROM narrative_members WHERE narrative_id = ? "
                                  "ORDER BY seq", (narrative_id,)).fetchall()

    @_locked
    def all_memberships(self, assigned_by: str | None = None) -> list[MemberRow]:
        """Every membership (or those made `assigned_by` "auto" or "person"), in seq order."""
        where = "" if assigned_by is None else " WHERE assigned_by = ?"
        rows = self._conn.execute("SELECT seq, narrative_id, micro_root, nn, assigned_by FROM narrative_members"
                                  f"{where} ORDER BY seq", () if assigned_by is None else (assigned_by,))
        return [MemberRow(*r) for r in rows]

    @_locked
    def member_rows(self, seqs: Sequence[int]) -> list[MemberRow]:
        """The memberships of the given seqs (unassigned ones are absent)."""
        rows: list[MemberRow] = []
        for chunk, marks in in_chunks(seqs):
            rows.extend(MemberRow(*r) for r in self._conn.execute(
                "SELECT seq, narrative_id, micro_root, nn, assigned_by FROM narrative_members "
                f"WHERE seq IN ({marks})", chunk))
        return rows

    @_locked
    def unassigned_seqs(self) -> list[int]:
        """Stored events without a narrative (e.g. after a crash between the two commits)."""
        return [r[0] for r in self._conn.execute(
            "SELECT seq FROM events WHERE seq NOT IN (SELECT seq FROM narrative_members) ORDER BY seq")]

    # ---- links and feedback -------------------------------------------------------
    @_locked
    def add_links(self, links: Iterable[LinkRow]) -> None:
        """Store links (replacing an earlier score for the same pair)."""
        self._conn.executemany(
            "INSERT OR REPLACE INTO links (later_seq, earlier_seq, score, evidence) VALUES (?, ?, ?, ?)",
            [(l.later_seq, l.earlier_seq, l.score, json.dumps(l.evidence)) for l in links])

    @_locked
    def links_touching(self, seqs: Sequence[int]) -> list[LinkRow]:
        """Links where either end is among `seqs`."""
        out: list[LinkRow] = []
        for chunk, marks in in_chunks(seqs):
            rows = self._conn.execute(
                f"SELECT later_seq, earlier_seq, score, evidence FROM links WHERE later_seq IN ({marks}) "
                f"OR earlier_seq IN ({marks})", chunk + chunk)
            out.extend(LinkRow(r[0], r[1], r[2], json.loads(r[3])) for r in rows)
        return list({(l.later_seq, l.earlier_seq): l for l in out}.values())

    @_locked
    def context_pairs(self, flag: str = "context_link") -> list[tuple[int, int]]:
        """(later, earlier) seqs of links whose evidence sets `flag`: `context_link` (context joined
        them) or `context_veto` (context keeps them apart)."""
        return self._conn.execute("SELECT later_seq, earlier_seq FROM links "
                                  "WHERE json_extract(evidence, '$.' || ?) = 1", (flag,)).fetchall()

    @_locked
    def set_feedback(self, a_id: str, b_id: str, verdict: str, at: datetime) -> None:
        """Record a person's verdict on a pair (the latest verdict wins)."""
        first, second = pair_key(a_id, b_id)
        self._conn.execute("INSERT OR REPLACE INTO link_feedback (first_id, second_id, verdict, given_at) "
                           "VALUES (?, ?, ?, ?)", (first, second, verdict, at.isoformat()))

    @_locked
    def feedback(self) -> dict[tuple[str, str], str]:
        """Every pair verdict."""
        return {(a, b): v for a, b, v in self._conn.execute("SELECT first_id, second_id, verdict FROM link_feedback")}

    @_locked
    def forget_events(self, event_ids: Sequence[str]) -> None:
        """Drop feedback that names erased events (rows keyed by seq cascade on their own)."""
        for chunk, marks in in_chunks(event_ids):
            self._conn.execute(f"DELETE FROM link_feedback WHERE first_id IN ({marks}) OR second_id IN ({marks})",
                               chunk + chunk)
