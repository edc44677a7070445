"""The lexical side: SQLite FTS5 (title and body columns) with its built-in BM25.

FTS5 keeps the index incremental inside the same transactions as the events, and computes
IDF at query time over what is stored now, so nothing is refitted as reports arrive.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence

from context_store import sqlite_rows
from context_store.records import EventFilter, ScoredSeq


def match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of the terms, each quoted as a literal."""
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in terms)


class LexicalIndex:
    """Queries over the `events_fts` and `events_vocab` tables (the caller holds the store lock)."""

    def __init__(self, conn: sqlite3.Connection):
        self._conn = conn

    def search(self, terms: Sequence[str], k: int, event_filter: EventFilter | None,
               column_weights: tuple[float, float]) -> list[ScoredSeq]:
        """Best BM25 matches for an OR of terms; scores positive, higher is better."""
        if not terms or k <= 0:
            return []
        where, params = sqlite_rows.filter_sql(event_filter)
        join = " JOIN events e ON e.seq = events_fts.rowid" if where else ""
        sql = (f"SELECT events_fts.rowid, bm25(events_fts, ?, ?) AS rank FROM events_fts{join} "
               f"WHERE events_fts MATCH ?{where} ORDER BY rank LIMIT ?")
        rows = self._conn.execute(sql, (*column_weights, match_expression(terms), *params, k)).fetchall()
        return [ScoredSeq(int(seq), -float(rank)) for seq, rank in rows]

    def self_score(self, terms: Sequence[str], seq: int, column_weights: tuple[float, float]) -> float:
        """BM25 of one stored event against an OR of terms, or 0 when it matches none."""
        if not terms:
            return 0.0
        row = self._conn.execute(
            "SELECT bm25(events_fts, ?, ?) FROM events_fts WHERE events_fts MATCH ? AND rowid = ?",
            (*column_weights, match_expression(terms), seq)).fetchone()
        return 0.0 if row is None else -float(row[0])

    def document_frequencies(self, terms: Iterable[str]) -> dict[str, int]:
        """How many stored events contain each term (0 when none)."""
        terms = list(dict.fromkeys(terms))
        found = dict.fromkeys(terms, 0)
        for chunk, marks in sqlite_rows.in_chunks(terms):
            found.update(self._conn.execute(
                f"SELECT term, doc FROM events_vocab WHERE term IN ({marks})", chunk).fetchall())
        return found
