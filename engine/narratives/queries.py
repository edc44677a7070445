"""Read side of narratives: list with filters, one narrative in full, an event's narrative."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from context_store import ContextStore, EventRecord, LineageRow, LinkRow, NarrativeRow
from engine.errors import NotFoundError
from engine.ops.suspects import OperationalView
from engine.narratives.views import NarrativeView, describe, status_of


@dataclass(frozen=True)
class NarrativeDetail:
    """A narrative with its view, members, their links and its lineage."""

    row: NarrativeRow
    view: NarrativeView
    members: list[EventRecord]
    links: list[LinkRow]
    lineage: list[LineageRow]
    operations: OperationalView | None = None  # suspect changes, probable origin (set by the engine)


@dataclass(frozen=True)
class NarrativeQuery:
    """Filters and order for listing narratives."""

    status: str | None = None
    system: str | None = None
    user_id: str | None = None
    since: datetime | None = None
    min_size: int = 1
    sort: Literal["recent", "size"] = "recent"
    limit: int = 50
    offset: int = 0


class NarrativeReader:
    """Builds narrative views from the store."""

    def __init__(self, store: ContextStore):
        self.store = store

    def resolve_id(self, narrative_id: str) -> str:
        """The live id for any id ever issued (absorbed ids answer with their survivor)."""
        survivor = self.store.narratives.survivor(narrative_id)
        if survivor is None:
            raise NotFoundError("narrative", narrative_id)
        return survivor

    def _members(self, narrative_id: str) -> list[EventRecord]:
        seqs = [seq for seq, _ in self.store.narratives.members(narrative_id)]
        records = self.store.get_events(seqs)
        return [records[s] for s in seqs if s in records]

    def _view(self, row: NarrativeRow, members: list[EventRecord], clock: datetime) -> NarrativeView:
        vectors = self.store.get_vectors([m.seq for m in members])
        return describe(members, vectors, row.resolved_at, clock, self.store.document_frequencies, self.store.count())

    def detail(self, narrative_id: str) -> NarrativeDetail:
        """Everything about one narrative."""
        live = self.resolve_id(narrative_id)
        row = self.store.narratives.get(live)
        members = self._members(live)
        if row is None or not members:
            raise NotFoundError("narrative", narrative_id)
        clock = self.store.latest_time() or members[-1].occurred_at
        links = [l for l in self.store.narratives.links_touching([m.seq for m in members])
                 if {l.later_seq, l.earlier_seq} <= {m.seq for m in members}]
        return NarrativeDetail(row, self._view(row, members, clock), members, links,
                               self.store.narratives.lineage(live))

    def list(self, query: NarrativeQuery) -> list[tuple[NarrativeRow, NarrativeView]]:
        """Live narratives matching the query, sorted and paginated.

        Filters and order use cheap facts (members, times, status); the full view (titles,
        summaries, symptoms) is built for the requested page only.
        """
        clock = self.store.latest_time()
        found = []
        for narrative_id in self.store.narratives.live_ids():
            seqs = [seq for seq, _ in self.store.narratives.members(narrative_id)]
            contexts = self.store.get_contexts(seqs)  # user, systems, time: from memory
            members = [contexts[s] for s in seqs if s in contexts]
            row = self.store.narratives.get(narrative_id)
            if not members or row is None or len(members) < query.min_size:
                continue
            if query.user_id and all(m.user_id != query.user_id for m in members):
                continue
            if query.system and all(query.system not in m.systems for m in members):
                continue
            first, last = min(m.occurred_at for m in members), max(m.occurred_at for m in members)
            if query.since and last < query.since:
                continue
            if query.status and status_of(last, first, row.resolved_at, clock or members[-1].occurred_at) != query.status:
                continue
            found.append((row, len(members), last))
        key = (lambda f: f[2]) if query.sort == "recent" else (lambda f: f[1])
        found.sort(key=key, reverse=True)
        page = []
        for row, _, _ in found[query.offset:query.offset + query.limit]:
            records = self._members(row.id)
            page.append((row, self._view(row, records, clock or records[-1].occurred_at)))
        return page
