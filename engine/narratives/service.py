"""Narratives over the store: incremental assignment at ingest, consolidation, rebuild on start.

The clusterer's state (micro-clusters, the nn histogram) is derived: it is rebuilt from the
stored memberships and vectors, so a restart keeps every id. Memberships and links of a batch
are written in one transaction after the events themselves are committed; events found
without a narrative at start-up (a crash between the two commits) are assigned then.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timezone

import numpy as np

from context_store import ContextStore, EventRecord, MemberRow
from context_store.narrative_tables import pair_key
from engine.narratives.clusterer import ClusterParams, StreamingClusterer
from engine.narratives.constraints import context_must_links
from engine.narratives.identity import plan_ids
from engine.narratives.linking import (ContextRules, build_links, context_partners, nearest_earlier,
                                       topology_partners, vetoed)


Pair = tuple[int, int]


def _now() -> datetime:
    return datetime.now(timezone.utc)


class NarrativeService:
    """Keeps every event in exactly one narrative and narratives coherent as reports arrive."""

    def __init__(self, store: ContextStore, dim: int, params: ClusterParams | None = None,
                 rules: ContextRules | None = None):
        self.store = store
        self.dim = dim
        self.params = params or ClusterParams()
        self.rules = rules or ContextRules()
        self.clusterer = StreamingClusterer(dim, self.params)
        self._context_pairs: set[tuple[int, int]] = set()  # (later, earlier) seqs of context links
        self._holds: set[tuple[int, int]] = set()  # the context links that decided an event's narrative
        self._veto_pairs: set[tuple[int, int]] = set()
        self._pending: dict[int, str] = {}  # the current batch's placements, before they are committed
        self._rebuild()

    # ---- state ----------------------------------------------------------------------
    def _rebuild(self) -> None:
        rows = self.store.narratives.all_memberships()
        vectors = self.store.get_vectors([r.seq for r in rows]) if rows else np.zeros((0, self.dim))
        micro_index: dict[int, int] = {}
        for row, vector in zip(rows, vectors):
            if row.nn > -1.0:  # as online: only events that had an earlier neighbour count
                self.clusterer.observe_nn(row.nn)
            if row.micro_root in micro_index:
                self.clusterer.add_to_micro(micro_index[row.micro_root], row.seq, vector)
            else:
                micro_index[row.micro_root] = self.clusterer.new_micro(row.seq, vector, row.narrative_id, row.micro_root)
        self.clusterer.since_consolidation = 0
        self._context_pairs = set(map(tuple, self.store.narratives.context_pairs("context_link")))
        self._holds = set(map(tuple, self.store.narratives.context_pairs("context_hold")))
        self._veto_pairs = set(map(tuple, self.store.narratives.context_pairs("context_veto")))
        pending = self.store.narratives.unassigned_seqs()
        if pending:
            records = self.store.get_events(pending)
            self.assign([records[s] for s in pending if s in records], self.store.get_vectors(pending))

    # ---- online assignment ----------------------------------------------------------
    def assign(self, records: Sequence[EventRecord], vectors: np.ndarray) -> dict[str, str]:
        """Place newly stored events (in seq order) into narratives; returns event id -> narrative id."""
        placed: dict[str, str] = {}
        self._pending = {}
        rows: list[MemberRow] = []
        links = []
        seqs = [record.seq for record in records]
        with self.store.transaction() as tables:
            for i, (record, vector) in enumerate(zip(records, vectors)):
                text_hits = nearest_earlier(self.store, record, vector, self.rules.text_links, seqs[i + 1:])
                nn = text_hits[0][1] if text_hits else -1.0
                if text_hits:
                    self.clusterer.observe_nn(nn)
                partners = self._partners(record, vector)
                vetoes = self._vetoes(record, text_hits)
                narrative, root, hold = self._place(record, vector, partners, vetoes, tables.create)
                rows.append(MemberRow(record.seq, narrative, root, nn, "auto"))
                self._pending[record.seq] = narrative
                links.extend(build_links(self.store, record, text_hits, partners, vetoes, hold,
                                         self.rules.topology_max_hops))
                self._veto_pairs.update((record.seq, v) for v in vetoes)
                self._context_pairs.update((record.seq, p.seq) for p, _ in partners)
                if hold is not None:
                    self._holds.add((record.seq, hold))
                placed[record.id] = narrative
            tables.assign(rows, _now())
            tables.add_links(links)
        if self.clusterer.since_consolidation >= self.params.consolidate_every:
            self.consolidate()
        return {i: self.store.narratives.survivor(n) or n for i, n in placed.items()}

    def _partners(self, record: EventRecord, vector: np.ndarray) -> list[tuple[EventRecord, float]]:
        """Context partners: the same user's recent reports on a shared system (and, only with
        `topology_placement`, topology partners)."""
        partners = context_partners(self.store, record, vector, self.rules)
        if not self.rules.topology_placement:
            return partners
        known = {p.seq for p, _ in partners}
        return partners + [p for p in topology_partners(self.store, record, vector, self.rules) if p[0].seq not in known]

    def _vetoes(self, record: EventRecord, text_hits: list[tuple[int, float]]) -> set[int]:
        """Text neighbours that context keeps apart from this event."""
        if not record.systems or not text_hits:
            return set()
        neighbours = self.store.get_events([seq for seq, _ in text_hits])
        return {seq for seq, other in neighbours.items() if vetoed(record, other, self.rules)}

    def _place(self, record: EventRecord, vector: np.ndarray, partners: list[tuple[EventRecord, float]],
               vetoes: set[int], create) -> tuple[str, int, int | None]:  # noqa: ANN001 - the tables' create method
        """(narrative, micro root, the partner seq when context decided the placement, else None)."""
        micro, score = self.clusterer.best_micro(vector)
        if micro is not None and vetoes & set(self.clusterer.micro_members[micro]):
            micro = None
        if micro is not None and score > self.clusterer.micro_threshold:
            self.clusterer.add_to_micro(micro, record.seq, vector)
            return self.clusterer.micro_narrative[micro], self.clusterer.micro_roots[micro], None
        narrative, hold = self._best_narrative(record, vector, partners, vetoes)
        narrative = narrative or create(record.occurred_at)
        self.clusterer.new_micro(record.seq, vector, narrative)
        return narrative, record.seq, hold

    def _best_narrative(self, record: EventRecord, vector: np.ndarray, partners: list[tuple[EventRecord, float]],
                        vetoes: set[int]) -> tuple[str | None, int | None]:
        """The narrative a new micro-cluster opens in: by text, else by its best context partner."""
        scores = self.clusterer.narrative_scores(vector)
        threshold = self.clusterer.narrative_threshold
        for narrative, score in sorted(scores.items(), key=lambda kv: -kv[1]):
            if score <= threshold:
                break
            if not self._vetoed_narrative(record, narrative, vetoes):
                return narrative, None
        if partners:  # context lifts a loosely related report into the partner's narrative
            best = max(partners, key=lambda p: p[1])[0]
            found = self._pending.get(best.seq) or self.store.narratives.narrative_of([best.seq]).get(best.seq)
            return found, best.seq if found else None
        return None, None

    def _vetoed_narrative(self, record: EventRecord, narrative: str, vetoes: set[int]) -> bool:
        if not record.systems:
            return False
        members = [seq for seq, _ in self.store.narratives.members(narrative)]
        if vetoes & set(members):
            return True
        latest = self.store.get_contexts(members[-20:]).values()  # systems and time, from memory
        return bool(latest) and all(vetoed(record, other, self.rules) for other in latest)

    # ---- consolidation --------------------------------------------------------------
    def consolidate(self, by: str = "auto") -> dict[str, int]:
        """Re-cluster the micro-clusters, keep ids stable, record merges and splits."""
        pins = self.store.narratives.all_memberships(assigned_by="person")  # not every row: stores grow
        must, cannot, pinned = self._constraints(pins)
        free = [m for m in range(len(self.clusterer.micro_roots)) if m not in pinned]
        must += self._context_links(free, cannot)
        groups = self.clusterer.regroup(free, must, cannot)
        previous = list(self.clusterer.micro_narrative)
        plan = plan_ids([[previous[m] for m in g] for g in groups], reserved=set(pinned.values()))
        at = _now()
        mapping: dict[int, str] = {}
        with self.store.transaction() as tables:
            for k, group in enumerate(groups):
                narrative = plan.group_ids[k] or tables.create(at, plan.split_parents.get(k))
                if k in plan.split_parents and plan.group_ids[k] is None:
                    tables.add_lineage(narrative, "split_from", plan.split_parents[k], at, by)
                mapping.update((m, narrative) for m in group)
            for old, k in plan.absorbed.items():
                survivor = mapping[groups[k][0]]
                tables.absorb(old, survivor, at, by)
            changed = [(m, n) for m, n in mapping.items() if previous[m] != n]
            self.clusterer.relabel(mapping)
            moved = {self.clusterer.micro_roots[m]: n for m, n in changed}
            rows = tables.member_rows([seq for m, _ in changed for seq in self.clusterer.micro_members[m]])
            tables.assign([MemberRow(r.seq, moved[r.micro_root], r.micro_root, r.nn, r.assigned_by)
                           for r in rows if r.micro_root in moved], at)
        return {"narratives": len(groups), "merged": len(plan.absorbed), "split": len(plan.split_parents),
                "moved_micro_clusters": len(changed)}

    def _constraints(self, rows: Sequence[MemberRow]) -> tuple[list[Pair], list[Pair], dict[int, str]]:
        """Must-links, cannot-links (micro-cluster pairs) and pinned micro-clusters -> narrative id."""
        micro_of_seq = {seq: i for i, members in enumerate(self.clusterer.micro_members) for seq in members}
        must: list[Pair] = []
        cannot = [(micro_of_seq[a], micro_of_seq[b]) for a, b in self._veto_pairs
                  if a in micro_of_seq and b in micro_of_seq]
        feedback = self.store.narratives.feedback()
        if feedback:
            ids = {i for pair in feedback for i in pair}
            seq_of = {r.id: r.seq for i in ids if (r := self.store.get_event(i)) is not None}
            for (a, b), verdict in feedback.items():
                if a in seq_of and b in seq_of:
                    pair = (micro_of_seq.get(seq_of[a]), micro_of_seq.get(seq_of[b]))
                    if None not in pair:
                        (must if verdict == "confirm" else cannot).append(pair)  # type: ignore[arg-type]
        pinned = {micro_of_seq[r.seq]: r.narrative_id for r in rows
                  if r.assigned_by == "person" and r.seq in micro_of_seq}
        return must, cannot, pinned

    def _context_links(self, free: Sequence[int], cannot: Sequence[Pair]) -> list[Pair]:
        """Context must-links between micro-clusters (see `constraints`): holds, lone events, corroborated."""
        if not self._context_pairs and not self._holds:
            return []
        micro_of_seq = {seq: i for i, members in enumerate(self.clusterer.micro_members) for seq in members}
        later = self.store.get_events(sorted({a for a, _ in self._context_pairs}))
        return context_must_links(self._context_pairs, self._holds, micro_of_seq, self.clusterer.micro_members,
                                  self.clusterer.text_groups(free, cannot),
                                  {seq: record.user_id for seq, record in later.items()})

    def reload(self) -> None:
        """Rebuild the derived state from the store (after an erasure, say)."""
        self.clusterer = StreamingClusterer(self.dim, self.params)
        self._rebuild()

    def forget_context_pair(self, a: int, b: int) -> None:
        """A person rejected this pair: context must no longer hold it together."""
        self._context_pairs -= {(a, b), (b, a)}
        self._holds -= {(a, b), (b, a)}

    def pair_verdict(self, a_id: str, b_id: str) -> str | None:
        """A person's verdict on a pair of events, if any."""
        return self.store.narratives.feedback().get(pair_key(a_id, b_id))
