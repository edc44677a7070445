"""A person's changes to narratives: merge, split, move, link feedback, resolve.

Every change is persisted, and later automatic steps obey it: moved and split-off events are
pinned (assigned_by="person"), a merge is also recorded as a confirmed pair so consolidation
keeps the two together, and a rejected pair becomes a cannot-link that consolidation honours.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Literal

from context_store import MemberRow
from engine.errors import NotFoundError
from engine.narratives.queries import NarrativeReader
from engine.narratives.service import NarrativeService


class EditError(ValueError):
    """A change that cannot be applied as asked (e.g. merging a narrative into itself)."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


class NarrativeEditor:
    """Applies a person's edits through the narrative service."""

    def __init__(self, service: NarrativeService, reader: NarrativeReader):
        self.service = service
        self.reader = reader
        self.store = service.store

    def _seq(self, event_id: str) -> int:
        record = self.store.get_event(event_id)
        if record is None:
            raise NotFoundError("event", event_id)
        return record.seq

    def _pin(self, seqs: Sequence[int], narrative_id: str) -> None:
        vectors = self.store.get_vectors(list(seqs))
        rows = {r.seq: r for r in self.store.narratives.member_rows(seqs)}
        clusterer = self.service.clusterer
        for seq, vector in zip(seqs, vectors):
            clusterer.remove_member(seq, vector)
            clusterer.new_micro(seq, vector, narrative_id, root=seq)
        with self.store.transaction() as tables:
            tables.assign([MemberRow(s, narrative_id, s, rows[s].nn if s in rows else -1.0, "person") for s in seqs],
                          _now())

    def merge(self, narrative_id: str, into: str) -> str:
        """Merge two narratives; the older id survives (stable ids). Returns the survivor."""
        a, b = self.reader.resolve_id(narrative_id), self.reader.resolve_id(into)
        if a == b:
            raise EditError(f"{narrative_id} and {into} are already one narrative ({a})")
        survivor, absorbed = min(a, b), max(a, b)
        first = {n: self.store.narratives.members(n)[0][0] for n in (a, b)}
        records = self.store.get_events(list(first.values()))
        with self.store.transaction() as tables:
            tables.absorb(absorbed, survivor, _now(), "person")
            tables.set_feedback(records[first[a]].id, records[first[b]].id, "confirm", _now())
        self.service.clusterer.relabel({m: survivor for m, n in enumerate(self.service.clusterer.micro_narrative)
                                        if n == absorbed})
        return survivor

    def split(self, narrative_id: str, event_ids: Sequence[str]) -> str:
        """Move the named members into a new narrative whose parent is this one. Returns the new id."""
        live = self.reader.resolve_id(narrative_id)
        seqs = [self._seq(e) for e in event_ids]
        members = {seq for seq, _ in self.store.narratives.members(live)}
        outside = [e for e, s in zip(event_ids, seqs) if s not in members]
        if outside:
            raise EditError(f"not members of {live}: {', '.join(outside)}")
        if len(members) == len(set(seqs)):
            raise EditError("a split must leave at least one event in the narrative")
        with self.store.transaction() as tables:
            child = tables.create(_now(), parent_id=live)
            tables.add_lineage(child, "split_from", live, _now(), "person")
        self._pin(seqs, child)
        return child

    def move(self, event_id: str, narrative_id: str) -> str:
        """Pin an event to a narrative; automatic steps will not move it again."""
        target = self.reader.resolve_id(narrative_id)
        self._pin([self._seq(event_id)], target)
        return target

    def feedback(self, a_id: str, b_id: str, verdict: Literal["confirm", "reject"]) -> dict[str, str | None]:
        """Record a verdict on a pair and re-consolidate so it takes effect now."""
        if a_id == b_id:
            raise EditError("a link needs two different events")
        seq_a, seq_b = self._seq(a_id), self._seq(b_id)
        self.store.narratives.set_feedback(a_id, b_id, verdict, _now())
        if verdict == "reject":
            self.service.forget_context_pair(seq_a, seq_b)
            together = self.store.narratives.narrative_of([seq_a, seq_b])
            if together.get(seq_a) is not None and together.get(seq_a) == together.get(seq_b):
                self.split(together[seq_a], [a_id if seq_a > seq_b else b_id])  # the later one leaves
        self.service.consolidate(by="person")
        return {e: self._narrative_of(e) for e in (a_id, b_id)}

    def _narrative_of(self, event_id: str) -> str | None:
        seq = self._seq(event_id)
        found = self.store.narratives.narrative_of([seq]).get(seq)
        return self.store.narratives.survivor(found) if found else None

    def resolve(self, narrative_id: str) -> str:
        """Mark a narrative resolved now; a later report reopens it (same id)."""
        live = self.reader.resolve_id(narrative_id)
        self.store.narratives.set_resolved(live, max(_now(), self.store.latest_time() or _now()))
        return live
