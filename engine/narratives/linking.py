"""Context-aware links from a new event to earlier ones, each with its evidence.

Text links: the nearest earlier events by embedding. Context links: the same user's earlier
events on a shared system within `window_days`, when the text is at least loosely related
(`text_floor`); context lifts weak text similarity but never links on its own. The veto keeps
similar wording apart when the contexts disagree: both sides name systems, none shared, and
they are more than `veto_days` apart. Every link between events on systems up or down the
dependency chain (at most `topology_max_hops` edges; not siblings) carries the path as
`topology_path`. Topology partners (the few closest earlier alerts of anyone on such systems within
`topology_window_hours`, above a higher text floor) place events only with `topology_placement`,
which is off: measured harmful (see `ContextRules`).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from context_store import ContextStore, EventContext, EventFilter, EventRecord, LinkRow
from engine.ops.topology import describe_path, related_systems


@dataclass(frozen=True)
class ContextRules:
    """Documented constants of context-aware linking."""

    window_days: float = 7.0
    # Between the mean cosine of different problems (0.15) and of one problem's successive
    # symptoms (0.25), both measured with MiniLM on eval/scenario.py.
    text_floor: float = 0.20
    veto_days: float = 30.0
    text_links: int = 3
    # Anyone's event on a neighbouring system is weaker context than the same user's on the same
    # system, so the text must be as close as one problem's successive symptoms are on average
    # (0.25, the same measurement as `text_floor`).
    topology_text_floor: float = 0.25
    topology_window_hours: float = 12.0
    topology_max_hops: int = 2
    topology_links: int = 3  # like text links: the few closest, not everything on the neighbouring systems
    # Off: with a random ("null") topology over eval/scenario.py's systems, placing events by
    # topology partners cut pair precision from 71.1 to 18.2 (seed 0; `python -m eval.bench_ops`).
    # Topology shows as evidence on links and lifts related-report ranking; it does not move events.
    topology_placement: bool = False


def vetoed(a: EventRecord | EventContext, b: EventRecord | EventContext, rules: ContextRules) -> bool:
    """Different systems, far apart in time: wording alone must not join these."""
    if not a.systems or not b.systems or set(a.systems) & set(b.systems):
        return False
    return abs((a.occurred_at - b.occurred_at).total_seconds()) > rules.veto_days * 86_400


def topology_path(store: ContextStore, event: EventRecord, other: EventRecord, max_hops: int) -> str | None:
    """The shortest dependency path between two events' systems when they share none, else None."""
    graph = store.operations.dependencies
    if not len(graph) or not event.systems or not other.systems or set(event.systems) & set(other.systems):
        return None
    near = related_systems(graph, event.systems, max_hops)
    path = min((near[s] for s in other.systems if s in near), key=len, default=None)
    return describe_path(graph, path) if path else None


def _evidence(event: EventRecord, other: EventRecord, cosine: float, context: bool,
              path: str | None) -> dict[str, object]:
    evidence = {"semantic": round(cosine, 4), "same_user": bool(event.user_id) and event.user_id == other.user_id,
                "shared_systems": [s for s in other.systems if s in event.systems],
                "time_gap_hours": round((other.occurred_at - event.occurred_at).total_seconds() / 3600, 2),
                "kinds": [event.kind, other.kind], "context_link": context}
    return evidence | ({"topology_path": path} if path else {})


def nearest_earlier(store: ContextStore, event: EventRecord, vector: np.ndarray, k: int,
                    later: Sequence[int] = ()) -> list[tuple[int, float]]:
    """The k most similar events stored before this one, by seq.

    `later`: the seqs stored after it that the store already holds (the rest of its ingest
    batch); they are excluded from the search itself, so the answer does not depend on how
    reports were batched.
    """
    hits = store.vector_search(vector, k + 8, EventFilter(exclude_seqs=(event.seq, *later)))
    return [(h.seq, h.score) for h in hits if h.seq < event.seq][:k]


def context_partners(store: ContextStore, event: EventRecord, vector: np.ndarray,
                     rules: ContextRules) -> list[tuple[EventRecord, float]]:
    """The same user's recent earlier events on a shared system, loosely related in text."""
    if not event.user_id or not event.systems:
        return []
    window = timedelta(days=rules.window_days)
    history = store.user_history(event.user_id, since=event.occurred_at - window,
                                 until=event.occurred_at + timedelta(seconds=1), limit=200)
    candidates = [r for r in history if r.seq < event.seq and set(r.systems) & set(event.systems)]
    if not candidates:
        return []
    cosines = store.get_vectors([r.seq for r in candidates]) @ vector
    return [(r, float(c)) for r, c in zip(candidates, cosines) if c >= rules.text_floor]


def topology_partners(store: ContextStore, event: EventRecord, vector: np.ndarray,
                      rules: ContextRules) -> list[tuple[EventRecord, float]]:
    """Earlier-stored events of anyone, close in time, on systems along this event's dependency
    chain (and sharing none with it), related in text, alerts unless this event is one: the
    `topology_links` most similar."""
    graph = store.operations.dependencies
    near = related_systems(graph, event.systems, rules.topology_max_hops) if event.systems and len(graph) else {}
    if not near:
        return []
    window = timedelta(hours=rules.topology_window_hours)
    kinds = () if event.kind == "alert" else ("alert",)  # an alert on one side: the failing system's signal
    scope = EventFilter(kinds=kinds, systems=tuple(near), since=event.occurred_at - window,
                        until=event.occurred_at + window, exclude_seqs=(event.seq,))
    hits = [h for h in store.vector_search(vector, rules.topology_links + 8, scope)
            if h.seq < event.seq and h.score >= rules.topology_text_floor][: rules.topology_links]
    records = store.get_events([h.seq for h in hits])
    return [(records[h.seq], h.score) for h in hits
            if h.seq in records and not set(records[h.seq].systems) & set(event.systems)]


def build_links(store: ContextStore, event: EventRecord, text_hits: list[tuple[int, float]],
                partners: list[tuple[EventRecord, float]], vetoes: set[int] = frozenset(),
                hold: int | None = None, max_hops: int = 2) -> list[LinkRow]:
    """Link rows with evidence for the text neighbours (vetoed ones marked) and the context partners.

    `hold` is the partner whose narrative the event was placed in by context (evidence
    `context_hold`): the one link consolidation keeps as a must-link for this event.
    """
    records = store.get_events([seq for seq, _ in text_hits])
    links = {seq: LinkRow(event.seq, seq, round(score, 4),
                          _evidence(event, records[seq], score, False,
                                    topology_path(store, event, records[seq], max_hops))
                          | {"context_veto": seq in vetoes, "context_hold": False})
             for seq, score in text_hits if seq in records}
    for record, cosine in partners:
        links[record.seq] = LinkRow(event.seq, record.seq, round(cosine, 4),
                                    _evidence(event, record, cosine, True, topology_path(store, event, record, max_hops))
                                    | {"context_veto": False, "context_hold": record.seq == hold})
    return list(links.values())
