"""Triage of feedback events at ingest, served with overrides applied, and a person's edits.

At ingest the engine hands `prepare` the new records and the vectors it just computed; the
returned writer runs inside the events' insert transaction, so an event is never stored without
its enrichment. Nothing is embedded again: category reads the report vector, routing and impact
read the report's nearest stored neighbours (one vector search).
"""
from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np

from context_store import ContextStore, EventFilter, EventRecord
from engine.embedder import Embedder
from engine.triage.categories import CategoryClassifier
from engine.triage.model import FIELDS, Category, FieldView, Inferred, TriageView
from engine.triage.priority import infer_impact, infer_urgency, suggest_priority
from engine.triage.routing import RoutingRules, suggest_team
from engine.triage.sentiment import SentimentScorer

log = logging.getLogger(__name__)

NEIGHBOURS = 10
SIMILAR_AT = 0.6  # cosine above which another report counts as "similar" for impact
SIMILAR_WINDOW = timedelta(days=3)
BACKFILL_CHUNK = 500


def _now() -> datetime:
    return datetime.now(timezone.utc)


def report_text(record: EventRecord) -> str:
    """What the text classifiers read: title and text."""
    return f"{record.title}\n{record.text}".strip()


class TriageService:
    """Infers, stores and serves each feedback event's category, sentiment, priority and team."""

    def __init__(self, store: ContextStore, embedder: Embedder, rules: RoutingRules):
        self.store = store
        self.rules = rules
        self.categories = CategoryClassifier(embedder)
        self.sentiment = SentimentScorer()
        self._has_labels = store.triage.has_team_labels()

    # ---- inference ----------------------------------------------------------------
    def infer(self, records: Sequence[EventRecord], vectors: np.ndarray,
              exclude_self: bool = False) -> list[dict[str, object]]:
        """The four inferred fields of each record (stored form)."""
        texts = [report_text(r) for r in records]
        categories = self.categories.classify(vectors, texts)
        out: list[dict[str, object]] = []
        for record, vector, text, category in zip(records, vectors, texts, categories):
            reporters, labelled = self._neighbourhood(record, vector, exclude_self)
            impact = infer_impact(record.impact, text, reporters)
            urgency = infer_urgency(record.urgency, text, Category(category.value))
            out.append({"category": category.as_json(), "sentiment": self.sentiment.classify(text).as_json(),
                        "priority": suggest_priority(impact, urgency).as_json(),
                        "team": suggest_team(self.rules, record.systems, labelled).as_json()})
        return out

    def _neighbourhood(self, record: EventRecord, vector: np.ndarray,
                       exclude_self: bool) -> tuple[int, list[tuple[str, float]]]:
        """Other people who reported similar things lately, and the teams of labelled neighbours."""
        event_filter = EventFilter(exclude_seqs=(record.seq,)) if exclude_self else None
        hits = self.store.vector_search(vector, NEIGHBOURS, event_filter)
        contexts = self.store.get_contexts([h.seq for h in hits])
        since = record.occurred_at - SIMILAR_WINDOW
        reporters = {c.user_id for h in hits if h.score >= SIMILAR_AT and (c := contexts.get(h.seq)) is not None
                     and c.user_id and c.user_id != record.user_id and since <= c.occurred_at <= record.occurred_at}
        labelled: list[tuple[str, float]] = []
        if self._has_labels:
            teams = self.store.triage.team_labels([h.seq for h in hits])
            labelled = [(teams[h.seq], float(h.score)) for h in hits if h.seq in teams]
        return len(reporters), labelled

    def prepare(self, records: Sequence[EventRecord], vectors: np.ndarray) -> Callable[[list[int]], None] | None:
        """Infer for the feedback among new records; the writer stores it under their seqs."""
        wanted = [i for i, r in enumerate(records) if r.kind == "feedback"]
        if not wanted:
            return None
        inferred = self.infer([records[i] for i in wanted], vectors[wanted])
        at = _now()

        def write(seqs: list[int]) -> None:
            self.store.triage.put_inferred(((seqs[i], value) for i, value in zip(wanted, inferred)), at)
        return write

    def backfill(self) -> int:
        """Triage stored feedback events that have none (a store from before triage); returns how many."""
        seqs = self.store.triage.untriaged_seqs()
        for start in range(0, len(seqs), BACKFILL_CHUNK):
            chunk = seqs[start:start + BACKFILL_CHUNK]
            records = self.store.get_events(chunk)
            ordered = [records[s] for s in chunk if s in records]
            inferred = self.infer(ordered, self.store.get_vectors([r.seq for r in ordered]), exclude_self=True)
            with self.store.transaction():
                self.store.triage.put_inferred(zip([r.seq for r in ordered], inferred), _now())
        if seqs:
            log.info("triaged %d stored feedback events that had no triage", len(seqs))
        return len(seqs)

    # ---- serving ------------------------------------------------------------------
    def views(self, records: Sequence[EventRecord]) -> dict[str, TriageView]:
        """Served triage (overrides applied) of the records that have one, by event id."""
        seqs = [r.seq for r in records]
        inferred = self.store.triage.inferred(seqs)
        overrides = self.store.triage.overrides(seqs)
        out: dict[str, TriageView] = {}
        for record in records:
            stored = inferred.get(record.seq)
            if stored is None:
                continue
            fields: dict[str, FieldView] = {}
            by_person = {o.field: o for o in overrides.get(record.seq, [])}
            for name in FIELDS:
                base = stored[name]
                assert isinstance(base, dict)
                person = by_person.get(name)
                if person is None:
                    fields[name] = FieldView(str(base["value"]), float(base["confidence"]), "inferred",
                                             dict(base.get("detail") or {}))
                else:
                    fields[name] = FieldView(person.value, 1.0, "person", dict(base.get("detail") or {}),
                                             inferred_value=str(base["value"]), by=person.by, at=person.at)
            out[record.id] = TriageView(record.id, fields)
        return out

    # ---- a person's word ----------------------------------------------------------
    def override(self, record: EventRecord, changes: Mapping[str, str | None], by: str) -> None:
        """Set (or, with None, clear) a person's value per field; a team set by a person also
        becomes a routing label for similar later reports."""
        at = _now()
        with self.store.transaction():
            for name, value in changes.items():
                self.store.triage.set_override(record.seq, name, value, by, at)
                if name == "team":
                    if value is None:
                        self.store.triage.clear_team_label(record.seq, "override")
                    else:
                        self.store.triage.set_team_labels([record.seq], value, "override", at)
        self._has_labels = self._has_labels or bool(changes.get("team"))

    def label_resolved(self, member_seqs: Sequence[int], team: str) -> None:
        """Record that `team` resolved a narrative with these members (call inside a transaction)."""
        self.store.triage.set_team_labels(member_seqs, team, "resolved", _now())
        self._has_labels = True


def load_routes(inline: Mapping[str, str], path: Path | None) -> dict[str, str]:
    """The system -> team map: a JSON file's entries, then the inline (environment) entries."""
    routes: dict[str, str] = {}
    if path:
        loaded = json.loads(Path(path).read_text(encoding="utf-8"))
        valid = isinstance(loaded, dict) and all(isinstance(k, str) and isinstance(v, str) for k, v in loaded.items())
        if not valid:
            raise ValueError(f"{path}: the routing file must be one JSON object of system -> team strings")
        routes.update(loaded)
    routes.update(inline)
    return routes
