"""Knowledge-base writes and reads: idempotent adds, updates that keep vectors in step, verdicts."""
from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

import numpy as np

from context_store import ArticleRecord, ConflictError, ContextStore, KbFeedbackRow
from engine.embedder import Embedder
from engine.errors import NotFoundError
from engine.kb.articles import ArticleContent, ArticleIn, KbFeedbackIn
from engine.kb.passages import passages

FEEDBACK_CONTEXT = timedelta(days=30)  # a verdict concerns the user's latest narrative within this window


@dataclass(frozen=True)
class ArticleOutcome:
    """What happened to one submitted article."""

    id: str
    status: Literal["created", "updated", "unchanged"]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class KnowledgeBase:
    """Articles and verdicts over the context store; passages are embedded once, at write time."""

    def __init__(self, store: ContextStore, embedder: Embedder):
        self.store = store
        self.embedder = embedder
        self._write_lock = threading.Lock()

    def embed_article(self, title: str, body: str) -> np.ndarray:
        """One vector per passage (the title first)."""
        return self.embedder.embed(passages(title, body))

    def _record(self, article_id: str, content: ArticleContent, at: datetime) -> ArticleRecord:
        return ArticleRecord(article_id, content.title, content.body, tuple(content.systems), tuple(content.tags),
                             content.url, content.content_hash(), at, at)

    def add(self, articles: Sequence[ArticleIn]) -> list[ArticleOutcome]:
        """Store new articles all-or-nothing. The same id with the same content again is `unchanged`;
        with other content it is a ConflictError naming the ids (use PUT to change an article)."""
        with self._write_lock:
            conflicts, outcomes, fresh = [], [], {}
            for article in articles:
                stored = self.store.kb.get(article.id) or (fresh[article.id][0] if article.id in fresh else None)
                if stored is not None:
                    if stored.content_hash != article.content_hash():
                        conflicts.append(article.id)
                    outcomes.append(ArticleOutcome(article.id, "unchanged"))
                    continue
                fresh[article.id] = (self._record(article.id, article, _now()), article)
                outcomes.append(ArticleOutcome(article.id, "created"))
            if conflicts:
                raise ConflictError(conflicts)
            if fresh:
                texts = [passages(a.title, a.body) for _, a in fresh.values()]
                vectors = self.embedder.embed([p for group in texts for p in group])
                bounds = np.cumsum([0] + [len(g) for g in texts])
                self.store.kb.put_many([(record, vectors[bounds[i]:bounds[i + 1]])
                                        for i, (record, _) in enumerate(fresh.values())])
            return outcomes

    def put(self, article_id: str, content: ArticleContent) -> ArticleOutcome:
        """Create or replace an article; passages are re-embedded only when title or body changed."""
        with self._write_lock:
            stored = self.store.kb.get(article_id)
            record = self._record(article_id, content, _now())
            if stored is not None and stored.content_hash == record.content_hash:
                return ArticleOutcome(article_id, "unchanged")
            if stored is not None and (stored.title, stored.body) == (content.title, content.body):
                vectors = self.store.kb.matrix.passages(article_id)
            else:
                vectors = self.embed_article(content.title, content.body)
            self.store.kb.put_many([(record, vectors)])
            return ArticleOutcome(article_id, "created" if stored is None else "updated")

    def delete(self, article_id: str) -> None:
        """Remove an article, its vectors and the verdicts on it."""
        with self._write_lock:
            if not self.store.kb.delete(article_id):
                raise NotFoundError("article", article_id)

    def get(self, article_id: str) -> ArticleRecord:
        """One article, or NotFoundError."""
        found = self.store.kb.get(article_id)
        if found is None:
            raise NotFoundError("article", article_id)
        return found

    def page(self, limit: int, offset: int, system: str | None = None,
             tag: str | None = None) -> tuple[list[ArticleRecord], int]:
        """A page of articles in id order, and how many articles are stored."""
        return self.store.kb.page(limit, offset, system, tag), self.store.kb.count()

    def feedback(self, verdict: KbFeedbackIn) -> KbFeedbackRow:
        """Record a verdict; it concerns the given narrative, else the user's latest narrative (if any)."""
        self.get(verdict.article_id)
        narrative_id = verdict.narrative_id
        if narrative_id is not None:
            narrative_id = self.store.narratives.survivor(narrative_id)
            if narrative_id is None:
                raise NotFoundError("narrative", verdict.narrative_id or "")
        else:
            narrative_id = self._latest_narrative(verdict.user_id)
        row = KbFeedbackRow(verdict.user_id, verdict.article_id, verdict.verdict, narrative_id, _now())
        self.store.kb.add_feedback(row)
        return row

    def _latest_narrative(self, user_id: str) -> str | None:
        clock = self.store.latest_time() or _now()
        recent = self.store.user_history(user_id, since=clock - FEEDBACK_CONTEXT, limit=10_000)
        for event in reversed(recent):
            found = self.store.narratives.narrative_of([event.seq]).get(event.seq)
            if found:
                return self.store.narratives.survivor(found)
        return None
