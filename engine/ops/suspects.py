"""Suspect changes and the probable origin of a narrative, each with its reasons.

Suspect changes: `change` events on the narrative's affected systems (same system) or on
systems they depend on (upstream, following the topology) that happened within `window`
before the narrative's first report (its first member that is not itself a change). Ranked by

    score = relation * recency * (1 + 0.5 * max(0, cosine))
    relation = 1 for the same system, 0.8 ** hops upstream
    recency  = 1 - 0.5 * (time before the first report / window)     (1 right before, 0.5 at the edge)

where `cosine` compares the change's text with the centroid of the narrative's reports. These
are stated design weights (a same-system change outranks an upstream one of the same age;
wording breaks near-ties), not values fitted to data.

Probable origin: among the affected systems, those that depend on no other affected system
(the most upstream; members of one dependency cycle count together), preferring the one most
affected systems depend on, then the one whose first event came first. With no dependency among
the affected systems it is the system that was hit first, and says so.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import networkx as nx
import numpy as np

from context_store import ContextStore, EventFilter, EventRecord
from engine.ops.topology import describe_path, upstream_paths

SAME_SYSTEM = 1.0
HOP_DECAY = 0.8
TEXT_WEIGHT = 0.5
TEXT_REASON = 0.3  # a cosine worth mentioning as a reason
MAX_SUSPECTS = 10
MAX_CANDIDATES = 500  # changes considered per narrative (the window's, most similar first)


@dataclass(frozen=True)
class SuspectChange:
    """A change that preceded a narrative, and why it is suspect."""

    event: EventRecord
    score: float
    relation: str  # "same_system" or "upstream"
    system: str  # the affected system it touched or sits upstream of
    path: str | None
    hours_before: float
    reasons: list[str]


@dataclass(frozen=True)
class ProbableOrigin:
    """The most upstream affected system and the reasoning."""

    system: str
    basis: str  # "topology", "only_system" or "first_hit"
    downstream: list[str]
    reasons: list[str]


@dataclass(frozen=True)
class OperationalView:
    """What operations context says about a narrative."""

    suspect_changes: list[SuspectChange] = field(default_factory=list)
    probable_origin: ProbableOrigin | None = None


def _duration(hours: float) -> str:
    minutes = int(round(hours * 60))
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60:02d} min"
    return f"{hours / 24:.1f} days"


def _first_hits(reports: Sequence[EventRecord]) -> dict[str, EventRecord]:
    first: dict[str, EventRecord] = {}
    for record in sorted(reports, key=lambda r: (r.occurred_at, r.seq)):
        for system in record.systems:
            first.setdefault(system, record)
    return first


def suspect_changes(store: ContextStore, members: Sequence[EventRecord], window: timedelta,
                    limit: int = MAX_SUSPECTS) -> list[SuspectChange]:
    """Changes before the narrative's first report on its systems or upstream of them, best first."""
    reports = [m for m in members if m.kind != "change"]
    if not reports:
        return []
    first = min(reports, key=lambda r: (r.occurred_at, r.seq))
    affected = list(_first_hits(reports))
    graph = store.operations.dependencies
    relations: dict[str, tuple[float, str, list[str] | None]] = {s: (SAME_SYSTEM, s, None) for s in affected}
    for target, path in upstream_paths(graph, affected).items():
        if target not in relations:
            relations[target] = (HOP_DECAY ** (len(path) - 1), path[0], path)
    scope = EventFilter(kinds=("change",), systems=tuple(relations), since=first.occurred_at - window,
                        until=first.occurred_at)
    hits = store.vector_search(_centroid(store, reports), MAX_CANDIDATES, scope)  # scored by cosine to the reports
    records = store.get_events([h.seq for h in hits])
    suspects = [_suspect(records[h.seq], relations, first, window, h.score, graph) for h in hits if h.seq in records]
    return sorted(suspects, key=lambda s: (-s.score, s.hours_before, s.event.id))[:limit]


def _centroid(store: ContextStore, reports: Sequence[EventRecord]) -> np.ndarray:
    vectors = store.get_vectors([r.seq for r in reports]).mean(axis=0)
    norm = float(np.linalg.norm(vectors))
    return vectors / norm if norm else vectors


def _suspect(record: EventRecord, relations: dict[str, tuple[float, str, list[str] | None]], first: EventRecord,
             window: timedelta, cosine: float, graph: nx.DiGraph) -> SuspectChange:
    """Score one change by its best relation (a change may touch several systems)."""
    best = max((relations[s] + (s,) for s in record.systems if s in relations), key=lambda r: r[0])
    weight, affected, path, touched = best
    hours = (first.occurred_at - record.occurred_at).total_seconds() / 3600.0
    recency = 1.0 - 0.5 * min(1.0, hours * 3600.0 / window.total_seconds())
    score = weight * recency * (1.0 + TEXT_WEIGHT * max(0.0, cosine))
    if path is None:
        reasons = [f"same system: {touched}"]
    else:
        reasons = [f"upstream of {affected} via {describe_path(graph, path)} ({len(path) - 1} hop"
                   f"{'s' if len(path) > 2 else ''})"]
    reasons.append(f"{_duration(hours)} before the first report ({first.id}, {first.occurred_at:%Y-%m-%d %H:%M} UTC)")
    if record.attributes.get("version"):
        reasons.append(f"version {record.attributes['version']}")
    if cosine >= TEXT_REASON:
        reasons.append(f"wording close to the narrative (cosine {cosine:.2f})")
    return SuspectChange(record, round(score, 4), "same_system" if path is None else "upstream", affected,
                         describe_path(graph, path) if path else None, round(hours, 2), reasons)


def probable_origin(store: ContextStore, members: Sequence[EventRecord]) -> ProbableOrigin | None:
    """The most upstream affected system (see the module docstring), or None without systems."""
    first_hits = _first_hits([m for m in members if m.kind != "change"])
    if not first_hits:
        return None
    affected = list(first_hits)
    graph = store.operations.dependencies
    below: dict[str, dict[str, list[str]]] = {}  # system -> affected systems that depend on it, with paths
    for system in affected:
        for target, path in upstream_paths(graph, [system]).items():
            if target in first_hits:
                below.setdefault(target, {})[system] = path
    # s depends on t when s is in below[t]; a cycle (each depends on the other) does not disqualify
    candidates = [s for s in affected
                  if not any(t != s and s in below.get(t, {}) and t not in below.get(s, {}) for t in affected)]
    order = sorted(candidates or affected,
                   key=lambda s: (-len(below.get(s, {})), first_hits[s].occurred_at, s))
    origin = order[0]
    hit = first_hits[origin]
    first_seen = f"first event on it: {hit.id} ({hit.kind}) at {hit.occurred_at:%Y-%m-%d %H:%M} UTC"
    if len(affected) == 1:
        return ProbableOrigin(origin, "only_system", [], ["the only affected system", first_seen])
    downstream = sorted(below.get(origin, {}))
    if not downstream:
        return ProbableOrigin(origin, "first_hit", [], [
            "no dependency between the affected systems is known (PUT /v1/topology); it was hit first",
            first_seen])
    paths = [describe_path(graph, path) for _, path in sorted(below[origin].items())]
    return ProbableOrigin(origin, "topology", downstream, [
        f"{', '.join(downstream)} depend{'s' if len(downstream) == 1 else ''} on it ({'; '.join(paths)})",
        "it depends on no other affected system", first_seen])


def operational_view(store: ContextStore, members: Sequence[EventRecord], window: timedelta) -> OperationalView:
    """Suspect changes and probable origin of a narrative's members."""
    return OperationalView(suspect_changes(store, members, window), probable_origin(store, members))

