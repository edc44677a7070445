"""Conversions between SQLite rows and records, and SQL for event filters."""
from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TypeVar

from context_store.records import EventFilter, EventRecord

T = TypeVar("T")
IN_CHUNK = 400  # items per `IN (...)` list: twice that stays under SQLite's variable limit


def in_chunks(items: Iterable[T]) -> Iterator[tuple[list[T], str]]:
    """Split items for `IN (...)` queries; yields each chunk with its '?,?,...' placeholders."""
    values = list(items)
    for start in range(0, len(values), IN_CHUNK):
        chunk = values[start:start + IN_CHUNK]
        yield chunk, ",".join("?" * len(chunk))


EVENT_COLUMNS = ("seq, id, kind, title, text, user_id, channel, occurred_at, impact, urgency, "
                 "attributes, content_hash, ingested_at")


def record_values(record: EventRecord) -> tuple[object, ...]:
    """Column values for inserting a record into `events` (without seq)."""
    return (record.id, record.kind, record.title, record.text, record.user_id, record.channel,
            record.occurred_at.isoformat(), record.occurred_at.timestamp(), record.impact,
            record.urgency, json.dumps(record.attributes, sort_keys=True), record.content_hash,
            record.ingested_at.isoformat())


def rows_to_records(conn: sqlite3.Connection, rows: list[tuple]) -> list[EventRecord]:
    """Build records from `EVENT_COLUMNS` rows, fetching their systems in one query."""
    if not rows:
        return []
    seqs = [row[0] for row in rows]
    systems: dict[int, list[str]] = {seq: [] for seq in seqs}
    for chunk, marks in in_chunks(seqs):
        for seq, system in conn.execute(
                f"SELECT seq, system FROM event_systems WHERE seq IN ({marks}) ORDER BY rowid", chunk):
            systems[seq].append(system)
    return [EventRecord(
        seq=row[0], id=row[1], kind=row[2], title=row[3], text=row[4], user_id=row[5],
        channel=row[6], occurred_at=datetime.fromisoformat(row[7]), impact=row[8],
        urgency=row[9], attributes=json.loads(row[10]), content_hash=row[11],
        ingested_at=datetime.fromisoformat(row[12]), systems=tuple(systems[row[0]]),
    ) for row in rows]


def filter_sql(event_filter: EventFilter | None, alias: str = "e") -> tuple[str, list[object]]:
    """A WHERE fragment (starting with ' AND', or empty) and its parameters."""
    if event_filter is None:
        return "", []
    clauses: list[str] = []
    params: list[object] = []
    if event_filter.kinds:
        clauses.append(f"{alias}.kind IN ({','.join('?' * len(event_filter.kinds))})")
        params.extend(event_filter.kinds)
    if event_filter.user_id is not None:
        clauses.append(f"{alias}.user_id = ?")
        params.append(event_filter.user_id)
    if event_filter.since is not None:
        clauses.append(f"{alias}.occurred_ts >= ?")
        params.append(event_filter.since.timestamp())
    if event_filter.until is not None:
        clauses.append(f"{alias}.occurred_ts < ?")
        params.append(event_filter.until.timestamp())
    if event_filter.systems:
        marks = ",".join("?" * len(event_filter.systems))
        clauses.append(f"{alias}.seq IN (SELECT seq FROM event_systems WHERE system IN ({marks}))")
        params.extend(event_filter.systems)
    if event_filter.exclude_seqs:
        clauses.append(f"{alias}.seq NOT IN ({','.join('?' * len(event_filter.exclude_seqs))})")
        params.extend(event_filter.exclude_seqs)
    return "".join(f" AND {c}" for c in clauses), params
