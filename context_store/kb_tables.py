"""Durable knowledge base: articles, their passage vectors, and people's verdicts on them.

SQLite holds the truth (`kb_articles`, `kb_chunks`, `kb_feedback`); the articles and their
vectors are also held in memory (`ArticleMatrix`), rebuilt from SQLite at start without
re-embedding. Every method runs under the store's lock; writes are one transaction each.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

import numpy as np

from context_store.kb_matrix import ArticleMatrix

KB_SCHEMA = """
CREATE TABLE IF NOT EXISTS kb_articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    systems TEXT NOT NULL,
    tags TEXT NOT NULL,
    url TEXT,
    content_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS kb_chunks (
    article_id TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    chunk INTEGER NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (article_id, chunk)
);
CREATE TABLE IF NOT EXISTS kb_feedback (
    user_id TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    verdict TEXT NOT NULL,
    narrative_id TEXT,
    given_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS kb_feedback_by_user ON kb_feedback (user_id);
CREATE INDEX IF NOT EXISTS kb_feedback_by_article ON kb_feedback (article_id);
"""
ARTICLE_COLUMNS = "id, title, body, systems, tags, url, content_hash, created_at, updated_at"


@dataclass(frozen=True)
class ArticleRecord:
    """One stored knowledge-base article."""

    id: str
    title: str
    body: str
    systems: tuple[str, ...]
    tags: tuple[str, ...]
    url: str | None
    content_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class KbFeedbackRow:
    """A person's verdict on an article (helpful, not_helpful, seen), in the narrative it concerned."""

    user_id: str
    article_id: str
    verdict: str
    narrative_id: str | None
    given_at: datetime


def _article(row: Sequence[object]) -> ArticleRecord:
    return ArticleRecord(str(row[0]), str(row[1]), str(row[2]), tuple(json.loads(str(row[3]))),
                         tuple(json.loads(str(row[4]))), None if row[5] is None else str(row[5]), str(row[6]),
                         datetime.fromisoformat(str(row[7])), datetime.fromisoformat(str(row[8])))


def _feedback(row: Sequence[object]) -> KbFeedbackRow:
    return KbFeedbackRow(str(row[0]), str(row[1]), str(row[2]), None if row[3] is None else str(row[3]),
                         datetime.fromisoformat(str(row[4])))


class KbTables:
    """SQL for the knowledge base over the store's connection, plus the in-memory article matrix."""

    def __init__(self, conn: sqlite3.Connection, lock: threading.RLock, dim: int):
        self._conn = conn
        self._lock = lock
        conn.executescript(KB_SCHEMA)
        self.matrix = ArticleMatrix(dim)
        self._articles: dict[str, ArticleRecord] = {}
        self._load()

    def _load(self) -> None:
        """Articles and their stored vectors into memory (never re-embeds)."""
        self._articles = {r.id: r for r in map(_article, self._conn.execute(
            f"SELECT {ARTICLE_COLUMNS} FROM kb_articles"))}
        chunks: dict[str, list[bytes]] = {}
        for article_id, blob in self._conn.execute("SELECT article_id, vector FROM kb_chunks "
                                                   "ORDER BY article_id, chunk"):
            chunks.setdefault(article_id, []).append(blob)
        for article_id, blobs in chunks.items():
            vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1)
            self.matrix.put(article_id, vectors)

    # ---- articles -------------------------------------------------------------------
    def put_many(self, items: Sequence[tuple[ArticleRecord, np.ndarray]]) -> None:
        """Insert or replace articles with their passage vectors in one transaction (all or nothing)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for record, vectors in items:
                    self._conn.execute("DELETE FROM kb_chunks WHERE article_id = ?", (record.id,))
                    self._conn.execute(
                        f"INSERT INTO kb_articles ({ARTICLE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (id) DO UPDATE SET title = excluded.title, body = excluded.body, "
                        "systems = excluded.systems, tags = excluded.tags, url = excluded.url, "
                        "content_hash = excluded.content_hash, updated_at = excluded.updated_at",
                        (record.id, record.title, record.body, json.dumps(list(record.systems)),
                         json.dumps(list(record.tags)), record.url, record.content_hash,
                         record.created_at.isoformat(), record.updated_at.isoformat()))
                    self._conn.executemany(
                        "INSERT INTO kb_chunks (article_id, chunk, vector) VALUES (?, ?, ?)",
                        [(record.id, i, np.ascontiguousarray(v, dtype=np.float32).tobytes())
                         for i, v in enumerate(vectors)])
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            for record, vectors in items:
                stored = self._articles.get(record.id)
                created = stored.created_at if stored else record.created_at
                self._articles[record.id] = replace(record, created_at=created)
                self.matrix.put(record.id, np.asarray(vectors, dtype=np.float32))

    def delete(self, article_id: str) -> bool:
        """Remove an article, its vectors and the verdicts on it; False when it was not stored."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                gone = self._conn.execute("DELETE FROM kb_articles WHERE id = ?", (article_id,)).rowcount
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._articles.pop(article_id, None)
            self.matrix.remove(article_id)
            return bool(gone)

    def get(self, article_id: str) -> ArticleRecord | None:
        """One article, or None."""
        with self._lock:
            return self._articles.get(article_id)

    def all(self) -> dict[str, ArticleRecord]:
        """Every article by id (a copy of the in-memory map)."""
        with self._lock:
            return dict(self._articles)

    def count(self) -> int:
        """Number of stored articles."""
        with self._lock:
            return len(self._articles)

    def page(self, limit: int, offset: int, system: str | None = None, tag: str | None = None) -> list[ArticleRecord]:
        """Articles in id order, optionally those naming a system or tag."""
        with self._lock:
            found = [a for _, a in sorted(self._articles.items())
                     if (system is None or system in a.systems) and (tag is None or tag in a.tags)]
        return found[offset:offset + limit]

    # ---- feedback -------------------------------------------------------------------
    def add_feedback(self, row: KbFeedbackRow) -> None:
        """Append one verdict (the history is kept; readers take the latest per user and article)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                self._conn.execute("INSERT INTO kb_feedback (user_id, article_id, verdict, narrative_id, given_at) "
                                   "VALUES (?, ?, ?, ?, ?)", (row.user_id, row.article_id, row.verdict,
                                                              row.narrative_id, row.given_at.isoformat()))
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise

    def feedback_of_user(self, user_id: str) -> list[KbFeedbackRow]:
        """A user's verdicts, oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT user_id, article_id, verdict, narrative_id, given_at FROM kb_feedback "
                                      "WHERE user_id = ? ORDER BY rowid", (user_id,)).fetchall()
        return [_feedback(r) for r in rows]

    def feedback_with_verdict(self, verdict: str) -> list[KbFeedbackRow]:
        """Every verdict of one kind (e.g. all `helpful` ones), oldest first."""
        with self._lock:
            rows = self._conn.execute("SELECT user_id, article_id, verdict, narrative_id, given_at FROM kb_feedback "
                                      "WHERE verdict = ? ORDER BY rowid", (verdict,)).fetchall()
        return [_feedback(r) for r in rows]

    def forget_user(self, user_id: str) -> None:
        """Drop a user's verdicts (erasure; runs inside the caller's transaction)."""
        with self._lock:
            self._conn.execute("DELETE FROM kb_feedback WHERE user_id = ?", (user_id,))
