"""The lexical side, durable: per-event term counts in SQLite, served from an in-memory TermIndex.

SQLite holds a `terms` vocabulary (id, term) and one `event_terms` row per event (its length
and a blob of (term id, title count, body count) entries), written in the same transaction as
the event. At start the in-memory index is rebuilt from those rows with numpy (no re-tokenising);
events that lack a row, or every event when the analyzer's version changed, are analysed again.

Writes are staged inside the caller's transaction and reach memory only on `commit()`;
`rollback()` forgets them, so memory never shows what SQLite did not keep.
"""
from __future__ import annotations

import logging
import sqlite3
from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from context_store import sqlite_rows
from context_store.records import ScoredSeq
from context_store.sqlite_schema import get_meta, set_meta
from context_store.analysis import Analyzer, LexicalTerms
from context_store.term_index import MAX_COUNT, TermIndex

log = logging.getLogger(__name__)

POSTING = np.dtype([("term", "<u4"), ("title", "<u2"), ("body", "<u2")])


@dataclass
class _Staged:
    adds: list[tuple[int, LexicalTerms]] = field(default_factory=list)
    new_ids: dict[str, int] = field(default_factory=dict)
    removed_seqs: list[int] = field(default_factory=list)
    removed_terms: list[str] = field(default_factory=list)


class LexicalIndex:
    """Term counts in SQLite and BM25 queries over them in memory (the caller holds the store lock)."""

    def __init__(self, conn: sqlite3.Connection, analyzer: Analyzer):
        self._conn = conn
        self.analyzer = analyzer
        self._index = TermIndex()
        self._ids: dict[str, int] = {}
        self._next_id = 1
        self._staged = _Staged()

    # ---- start-up -----------------------------------------------------------------
    def load(self) -> None:
        """Rebuild memory from SQLite; analyse events that have no term row (or all, on a new analyzer)."""
        conn = self._conn
        if get_meta(conn, "lexical_analyzer") != self.analyzer.version:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("DELETE FROM event_terms")
            conn.execute("DELETE FROM terms")
            set_meta(conn, "lexical_analyzer", self.analyzer.version)
            conn.execute("COMMIT")
        vocabulary = dict(conn.execute("SELECT id, term FROM terms"))
        self._ids = {term: term_id for term_id, term in vocabulary.items()}
        self._next_id = max(vocabulary, default=0) + 1
        lengths: dict[int, int] = {}
        seqs, blobs = [], []
        for seq, length, blob in conn.execute("SELECT seq, length, postings FROM event_terms ORDER BY seq"):
            lengths[seq] = length
            seqs.append(seq)
            blobs.append(blob)
        self._index.load(self._group(vocabulary, seqs, blobs), lengths)
        self._analyse_missing()

    @staticmethod
    def _group(vocabulary: dict[int, str], seqs: list[int], blobs: list[bytes]) -> dict[str, array]:
        entries = np.frombuffer(b"".join(blobs), dtype=POSTING)
        if not len(entries):
            return {}
        owners = np.repeat(np.array(seqs, dtype=np.int64), [len(b) // POSTING.itemsize for b in blobs])
        order = np.argsort(entries["term"], kind="stable")  # seqs stay ascending within a term
        packed = (owners[order] << 32) | (entries["title"][order].astype(np.int64) << 16) | entries["body"][order]
        terms = entries["term"][order]
        starts = np.concatenate(([0], np.flatnonzero(np.diff(terms)) + 1))
        bounds = np.append(starts, len(terms))
        return {vocabulary[int(terms[a])]: array("q", packed[a:b].tobytes()) for a, b in zip(bounds[:-1], bounds[1:])}

    def _analyse_missing(self) -> None:
        cursor = self._conn.execute(
            "SELECT seq, title, text FROM events WHERE seq NOT IN (SELECT seq FROM event_terms) ORDER BY seq")
        rows = cursor.fetchall()
        if not rows:
            return
        log.warning("indexing the terms of %d stored events (new or changed analyzer)", len(rows))
        for chunk in range(0, len(rows), 5000):
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                for seq, title, text in rows[chunk:chunk + 5000]:
                    self.stage(seq, title, text)
                self._conn.execute("COMMIT")
            except BaseException:
                self._conn.execute("ROLLBACK")
                self.rollback()
                raise
            self.commit()

    # ---- writes (inside the caller's transaction) ----------------------------------
    def _term_id(self, term: str) -> int:
        found = self._ids.get(term) or self._staged.new_ids.get(term)
        if found is None:
            found = self._staged.new_ids[term] = self._next_id + len(self._staged.new_ids)
            self._conn.execute("INSERT INTO terms (id, term) VALUES (?, ?)", (found, term))
        return found

    def stage(self, seq: int, title: str, text: str) -> None:
        """Analyse an event and write its term row; memory follows on commit()."""
        terms = self.analyzer(title, text)
        entries = np.array([(self._term_id(term), min(title_count, MAX_COUNT), min(body_count, MAX_COUNT))
                            for term, (title_count, body_count) in terms.counts.items()], dtype=POSTING)
        self._conn.execute("INSERT INTO event_terms (seq, length, postings) VALUES (?, ?, ?)",
                           (seq, terms.length, entries.tobytes()))
        self._staged.adds.append((seq, terms))

    def stage_removal(self, seqs: Sequence[int]) -> None:
        """Before the caller deletes events: find the terms only they hold and delete those words."""
        doomed_terms: dict[int, int] = {}
        for chunk, marks in sqlite_rows.in_chunks(list(seqs)):
            for (blob,) in self._conn.execute(f"SELECT postings FROM event_terms WHERE seq IN ({marks})", chunk):
                for term_id in np.frombuffer(blob, dtype=POSTING)["term"].tolist():
                    doomed_terms[term_id] = doomed_terms.get(term_id, 0) + 1
        vocabulary = {i: t for t, i in self._ids.items() if i in doomed_terms}
        frequencies = self._index.document_frequencies(vocabulary.values())
        emptied = [i for i, t in vocabulary.items() if frequencies[t] <= doomed_terms[i]]
        for chunk, marks in sqlite_rows.in_chunks(emptied):
            self._conn.execute(f"DELETE FROM terms WHERE id IN ({marks})", chunk)
        self._staged.removed_seqs.extend(seqs)
        self._staged.removed_terms.extend(vocabulary.values())

    def commit(self) -> None:
        """The caller's transaction committed: apply what was staged to memory."""
        staged, self._staged = self._staged, _Staged()
        self._ids.update(staged.new_ids)
        self._next_id += len(staged.new_ids)
        for seq, terms in staged.adds:
            self._index.add(seq, terms)
        if staged.adds:
            self._index.refresh({term for _, terms in staged.adds for term in terms.counts})
        if staged.removed_seqs:
            for term in self._index.remove(staged.removed_seqs, staged.removed_terms):
                self._ids.pop(term, None)

    def rollback(self) -> None:
        """The caller's transaction rolled back: forget what was staged."""
        self._staged = _Staged()

    # ---- reads --------------------------------------------------------------------
    def search(self, terms: Sequence[str], k: int, allowed: np.ndarray | None, exclude: Sequence[int],
               column_weights: tuple[float, float]) -> list[ScoredSeq]:
        """Best BM25 matches for an OR of terms; scores positive, higher is better."""
        return self._index.search(terms, k, allowed, exclude, column_weights)

    def prepare(self, column_weights: tuple[float, float]) -> None:
        """Weigh every posting list for these column weights now (see `TermIndex.prepare`)."""
        self._index.prepare(column_weights)

    def self_score(self, terms: Sequence[str], seq: int, column_weights: tuple[float, float]) -> float:
        """BM25 of one stored event against an OR of terms, or 0 when it matches none (its counts are
        read from the event's own term row: one read, however many terms)."""
        ids = {self._ids[t]: t for t in dict.fromkeys(terms) if t in self._ids}
        row = self._conn.execute("SELECT postings FROM event_terms WHERE seq = ?", (seq,)).fetchone()
        if row is None or not ids:
            return 0.0
        entries = np.frombuffer(row[0], dtype=POSTING)
        counts = {ids[term]: (title, body) for term, title, body in
                  zip(entries["term"].tolist(), entries["title"].tolist(), entries["body"].tolist()) if term in ids}
        return self._index.score_counts(seq, counts, column_weights)

    def document_frequencies(self, terms: Sequence[str]) -> dict[str, int]:
        """How many stored events contain each term (0 when none)."""
        return self._index.document_frequencies(terms)

    def terms_contained(self, terms: Sequence[str], seqs: Sequence[int]) -> dict[int, list[str]]:
        """For each event in `seqs`, which of `terms` it contains (read from the events' own term rows)."""
        ids = {self._ids[t]: t for t in dict.fromkeys(terms) if t in self._ids}
        found: dict[int, list[str]] = {int(s): [] for s in seqs}
        for chunk, marks in sqlite_rows.in_chunks(list(found)):
            for seq, blob in self._conn.execute(f"SELECT seq, postings FROM event_terms WHERE seq IN ({marks})", chunk):
                present = set(np.frombuffer(blob, dtype=POSTING)["term"].tolist())
                found[seq] = [t for i, t in ids.items() if i in present]
        return found
