"""Do the derived parts (vector index, issue graph) agree with SQLite, the record of truth?"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from context_store.issue_graph import AFFECTS, REPORTED_BY

SAMPLE = 10  # ids named per problem, at most


@dataclass(frozen=True)
class ConsistencyReport:
    """Sizes of each part and what disagrees (empty `problems`: all agree)."""

    events: int
    vectors: int
    graph_events: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing disagrees."""
        return not self.problems


def _differ(label: str, truth: set, derived: set) -> list[str]:
    problems = []
    if missing := truth - derived:
        problems.append(f"{label}: {len(missing)} missing, e.g. {sorted(map(str, missing))[:SAMPLE]}")
    if extra := derived - truth:
        problems.append(f"{label}: {len(extra)} not in SQLite, e.g. {sorted(map(str, extra))[:SAMPLE]}")
    return problems


def check(conn: sqlite3.Connection, vector_ids: np.ndarray, graph: nx.MultiDiGraph) -> ConsistencyReport:
    """Compare event seqs with the index's live ids, and event rows with the graph's nodes and edges."""
    rows = conn.execute("SELECT seq, id, user_id FROM events").fetchall()
    seqs = {r[0] for r in rows}
    problems = _differ("vector index", seqs, {int(i) for i in vector_ids})
    problems += _differ("embeddings table", seqs, {r[0] for r in conn.execute("SELECT seq FROM embeddings")})
    graph_events = {n for n, d in graph.nodes(data=True) if d.get("type") == "event"}
    problems += _differ("issue graph events", {f"event:{r[1]}" for r in rows}, graph_events)
    systems = conn.execute("SELECT e.id, s.system FROM event_systems s JOIN events e ON e.seq = s.seq").fetchall()
    truth = {(f"event:{r[1]}", f"user:{r[2]}", REPORTED_BY) for r in rows if r[2]}
    truth |= {(f"event:{event_id}", f"system:{system}", AFFECTS) for event_id, system in systems}
    edges = {(a, b, k) for a, b, k in graph.edges(keys=True) if k in (REPORTED_BY, AFFECTS)}
    problems += _differ("issue graph edges", truth, edges)
    return ConsistencyReport(len(seqs), len(vector_ids), len(graph_events), problems)
