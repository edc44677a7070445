"""The Engine facade: the one object the API, CLI and evaluations talk to."""
from __future__ import annotations

import threading
from dataclasses import replace
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from typing import Literal

from context_store import ContextStore, EventRecord, StoreStats, create_store
from context_store.consistency import ConsistencyReport
from engine import text as textprep
from engine.embedder import Embedder, create_embedder
from engine.errors import BatchTooLargeError, NotFoundError, NotTriagedError
from engine.events import EventIn
from engine.filters import RelatedFilters
from engine.ingest import IngestOutcome, StoredBatch, ingest_batch
from engine.kb.service import KnowledgeBase
from engine.relevance import HybridRanker, Query, RelatedHit, RelevanceWeights
from context_store import NarrativeRow
from engine.narratives.editing import NarrativeEditor
from engine.narratives.queries import NarrativeDetail, NarrativeQuery, NarrativeReader
from engine.narratives.service import NarrativeService
from engine.narratives.views import NarrativeView
from engine.anomalies import Anomaly, AnomalyService
from engine.settings import Settings
from engine.ops.alertmanager import AlertmanagerWebhook, SystemLabelRule, to_events
from engine.ops.alerts import AlertOutcome, plan_alerts
from engine.ops.suspects import operational_view
from engine.triage.model import TriageView
from engine.triage.routing import RoutingRules
from engine.triage.service import TriageService, load_routes
from engine.suggestions.ranker import Suggester


class Engine:
    """Ingest reports and answer related-report and history questions over a context store."""

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None,
                 store: ContextStore | None = None, weights: RelevanceWeights | None = None):
        self.settings = settings or Settings()
        self.embedder = embedder or create_embedder(self.settings)
        self.store = store or create_store(
            self.settings.backend, self.settings.data_dir if self.settings.backend == "embedded" else None,
            self.embedder.dim, self.embedder.name, self.settings.hnsw_threshold, self.settings.snapshot_every,
            textprep.ANALYZER)
        self.ranker = HybridRanker(self.store, weights)
        self.narratives = NarrativeService(self.store, self.embedder.dim)
        self.narrative_reader = NarrativeReader(self.store)
        self.narrative_editor = NarrativeEditor(self.narratives, self.narrative_reader)
        self.anomalies = AnomalyService(self.store)
        self.triage = TriageService(self.store, self.embedder, RoutingRules(
            load_routes(self.settings.triage_routes, self.settings.triage_routes_file),
            self.settings.triage_default_team))
        self._write_lock = threading.Lock()
        self.triage.backfill()
        self.kb = KnowledgeBase(self.store, self.embedder)  # articles and verdicts
        self.suggester = Suggester(self.store, self.embedder)  # articles ranked for a user or narrative

    # ---- writes -------------------------------------------------------------------
    def ingest(self, events: Sequence[EventIn]) -> list[IngestOutcome]:
        """Store a batch of validated events all-or-nothing; see `ingest_batch`."""
        if len(events) > self.settings.max_batch_events:
            raise BatchTooLargeError(
                f"a batch holds at most {self.settings.max_batch_events} events, got {len(events)}")
        with self._write_lock:
            return self._store_and_place(events)

    def _store_and_place(self, events: Sequence[EventIn]) -> list[IngestOutcome]:
        """Ingest (with triage of feedback) and narrative assignment; the caller holds the write lock."""
        batch = ingest_batch(self.store, self.embedder, events, self.triage.prepare)
        placed = self.narratives.assign(batch.records, batch.vectors)
        triaged = self.triage.views(self._records_of(batch))
        return [replace(o, narrative_id=placed.get(o.id) or self.narrative_of(o.id), triage=triaged.get(o.id))
                for o in batch.outcomes]

    def _records_of(self, batch: "StoredBatch") -> list[EventRecord]:
        """The batch's records: the new ones as stored, the known ones read back."""
        fresh = {r.id: r for r in batch.records}
        known = [o.id for o in batch.outcomes if o.id not in fresh]
        return list(fresh.values()) + [r for i in dict.fromkeys(known) if (r := self.store.get_event(i))]

    def ingest_alertmanager(self, payload: AlertmanagerWebhook) -> list[AlertOutcome]:
        """An Alertmanager notification: new alert episodes are added, known ones get their status
        updated in place (see `engine.ops.alerts`). New events commit first, then the updates; both
        steps are idempotent, so Alertmanager's retry after a failure converges."""
        events = to_events(payload, SystemLabelRule(tuple(self.settings.alert_system_labels)))
        if len(events) > self.settings.max_batch_events:
            raise BatchTooLargeError(f"a notification holds at most {self.settings.max_batch_events} alerts")
        with self._write_lock:
            plan = plan_alerts(self.store, events)
            placed = {o.id: o.narrative_id for o in self._store_and_place(plan.fresh)} if plan.fresh else {}
            self.store.operations.update_attributes(plan.updates)
            return [replace(o, narrative_id=placed.get(o.id) or self.narrative_of(o.id)) for o in plan.outcomes]

    def set_topology(self, topology: dict[str, list[str]]) -> str:
        """Replace the service dependency graph (system -> depends_on); returns when it was stored."""
        at = datetime.now(timezone.utc).isoformat()
        with self._write_lock:
            self.store.operations.set_topology(topology, at)
        return at

    def topology(self) -> tuple[dict[str, list[str]], str | None]:
        """The stored dependency graph and when it was last replaced."""
        return self.store.operations.topology()

    def narrative_of(self, event_id: str) -> str | None:
        """The live narrative holding an event (following merges), or None."""
        record = self.store.get_event(event_id)
        found = self.store.narratives.narrative_of([record.seq]).get(record.seq) if record else None
        return self.store.narratives.survivor(found) if found else None

    # ---- narratives ---------------------------------------------------------------
    def list_narratives(self, query: NarrativeQuery) -> list[tuple[NarrativeRow, NarrativeView]]:
        """Live narratives, filtered, sorted and paginated (each flagged if its growth is anomalous)."""
        flags = self.anomalies.narrative_flags()
        return [(row, replace(view, growth_anomaly=flags.get(row.id))) for row, view in self.narrative_reader.list(query)]

    def narrative(self, narrative_id: str) -> NarrativeDetail:
        """One narrative in full (an absorbed id answers with its survivor), with its growth-anomaly
        flag and suspect changes."""
        detail = self.narrative_reader.detail(narrative_id)
        flag = self.anomalies.narrative_flags().get(detail.row.id)
        return self._with_operations(replace(detail, view=replace(detail.view, growth_anomaly=flag)))

    def list_anomalies(self, since: datetime | None = None, until: datetime | None = None,
                       scope: str | None = None, limit: int = 50, offset: int = 0) -> list[Anomaly]:
        """Volume anomalies per system and per narrative (hour buckets), newest first."""
        return self.anomalies.list(since, until, scope, limit, offset)

    def _with_operations(self, detail: NarrativeDetail) -> NarrativeDetail:
        window = timedelta(hours=self.settings.suspect_window_hours)
        return replace(detail, operations=operational_view(self.store, detail.members, window))

    def event_narrative(self, event_id: str) -> NarrativeDetail:
        """The narrative holding an event."""
        narrative = self.narrative_of(self.get_event(event_id).id)
        if narrative is None:
            raise NotFoundError("narrative of event", event_id)
        return self.narrative(narrative)

    def merge_narratives(self, narrative_id: str, into: str) -> str:
        """A person merges two narratives; the older id survives and is returned."""
        with self._write_lock:
            return self.narrative_editor.merge(narrative_id, into)

    def split_narrative(self, narrative_id: str, event_ids: Sequence[str]) -> str:
        """A person splits members off into a new child narrative; returns its id."""
        with self._write_lock:
            return self.narrative_editor.split(narrative_id, event_ids)

    def move_event(self, event_id: str, narrative_id: str) -> str:
        """A person pins an event to a narrative; returns the (live) narrative id."""
        with self._write_lock:
            return self.narrative_editor.move(event_id, narrative_id)

    def link_feedback(self, a_id: str, b_id: str, verdict: Literal["confirm", "reject"]) -> dict[str, str | None]:
        """A person confirms or rejects that two events belong together; returns their narratives."""
        with self._write_lock:
            return self.narrative_editor.feedback(a_id, b_id, verdict)

    def resolve_narrative(self, narrative_id: str, team: str | None = None) -> str:
        """A person marks a narrative resolved (optionally by `team`: routing learns from it); returns its live id."""
        with self._write_lock, self.store.transaction():
            live = self.narrative_editor.resolve(narrative_id)
            if team:
                self.triage.label_resolved([seq for seq, _ in self.store.narratives.members(live)], team)
            return live

    # ---- triage -------------------------------------------------------------------
    def event_triage(self, event_id: str) -> TriageView | None:
        """An event's enrichment with a person's overrides applied (None for alerts and changes)."""
        record = self.get_event(event_id)
        return self.triage.views([record]).get(record.id)

    def get_event_with_triage(self, event_id: str) -> tuple[EventRecord, TriageView | None]:
        """One stored event and its enrichment."""
        record = self.get_event(event_id)
        return record, self.triage.views([record]).get(record.id)

    def override_triage(self, event_id: str, changes: dict[str, str | None], by: str) -> TriageView:
        """A person sets (or clears, with None) triage fields; their value wins from now on."""
        with self._write_lock:
            record = self.get_event(event_id)
            if self.triage.views([record]).get(record.id) is None:
                raise NotTriagedError(f"event {event_id!r} is a {record.kind}; only feedback events are triaged")
            self.triage.override(record, changes, by)
            return self.triage.views([record])[record.id]

    def consolidate(self) -> dict[str, int]:
        """Run narrative consolidation now."""
        with self._write_lock:
            return self.narratives.consolidate(by="request")

    def erase_user(self, user_id: str) -> int:
        """Delete every event of a user everywhere; returns how many were erased."""
        with self._write_lock:
            erased = self.store.delete_user(user_id)
            self.narratives.reload()  # erased text must not steer assignment any more
            return erased

    # ---- reads --------------------------------------------------------------------
    def get_event(self, event_id: str) -> EventRecord:
        """One stored event, or NotFoundError."""
        record = self.store.get_event(event_id)
        if record is None:
            raise NotFoundError("event", event_id)
        return record

    def related(self, event_id: str, k: int = 10, filters: RelatedFilters | None = None) -> list[RelatedHit]:
        """Events related to a stored event, best first, each with evidence."""
        anchor = self.get_event(event_id)
        filters = filters or RelatedFilters()
        query = Query(text=f"{anchor.title}\n{anchor.text}", vector=self.store.get_vectors([anchor.seq])[0],
                      title_vector=self.store.get_title_vectors([anchor.seq])[0], seq=anchor.seq,
                      user_id=anchor.user_id, systems=anchor.systems, occurred_at=anchor.occurred_at)
        return self.ranker.rank(query, k, filters.to_store_filter(anchor.occurred_at, (anchor.seq,)))

    def search(self, text: str, k: int = 10, filters: RelatedFilters | None = None,
               user_id: str | None = None, systems: Sequence[str] = ()) -> list[RelatedHit]:
        """Events related to a free text (optionally in a user's and systems' context)."""
        filters = filters or RelatedFilters()
        vector = self.embedder.embed([textprep.embedding_text("", text)])[0]
        query = Query(text=text, vector=vector, user_id=user_id, systems=tuple(systems))
        return self.ranker.rank(query, k, filters.to_store_filter(filters.until))

    def user_history(self, user_id: str, since: datetime | None = None, until: datetime | None = None,
                     limit: int = 100, offset: int = 0) -> list[EventRecord]:
        """A user's events in time order."""
        return self.store.user_history(user_id, since, until, limit, offset)

    def system_history(self, system: str, since: datetime | None = None, until: datetime | None = None,
                       limit: int = 100, offset: int = 0) -> list[EventRecord]:
        """A system's events in time order."""
        return self.store.system_history(system, since, until, limit, offset)

    def stats(self) -> StoreStats:
        """Store sizes."""
        return self.store.stats()

    def verify_store(self) -> ConsistencyReport:
        """Whether the vector index and issue graph agree with SQLite."""
        return self.store.verify()

    def close(self) -> None:
        """Persist derived state and release the store."""
        with self._write_lock:
            self.store.close()
