"""The issue graph: events linked to the users who reported them and the systems they affect.

It is derived state: rebuilt from SQLite rows at start-up and kept in step on every write.
Node keys are namespaced strings ("event:ID", "user:ID", "system:NAME").
"""
from __future__ import annotations

from collections.abc import Iterable

import networkx as nx

REPORTED_BY = "reported_by"
AFFECTS = "affects"
DEPENDS_ON = "depends_on"  # system -> system it depends on (the service topology)


def event_node(event_id: str) -> str:
    """Graph key of an event."""
    return f"event:{event_id}"


def user_node(user_id: str) -> str:
    """Graph key of a user."""
    return f"user:{user_id}"


def system_node(system: str) -> str:
    """Graph key of a system."""
    return f"system:{system}"


class IssueGraph:
    """A networkx multigraph of events, users and systems with typed edges."""

    def __init__(self) -> None:
        self.graph = nx.MultiDiGraph()
        self.dependencies = nx.DiGraph()  # the topology alone (system names), for path queries

    def add_event(self, event_id: str, kind: str, user_id: str | None,
                  systems: Iterable[str]) -> None:
        """Add an event node with its reported-by and affects edges."""
        self.add_events([(event_id, kind, user_id, systems)])

    def add_events(self, rows: Iterable[tuple[str, str, str | None, Iterable[str]]]) -> None:
        """Add many events at once: (event id, kind, user id, systems) each (bulk networkx calls)."""
        events, users, systems, edges = [], set(), set(), []
        for event_id, kind, user_id, affected in rows:
            node = event_node(event_id)
            events.append((node, {"type": "event", "kind": kind}))
            if user_id:
                users.add(user_node(user_id))
                edges.append((node, user_node(user_id), REPORTED_BY))
            for system in affected:
                systems.add(system_node(system))
                edges.append((node, system_node(system), AFFECTS))
        self.graph.add_nodes_from(events)
        self.graph.add_nodes_from(users, type="user")
        self.graph.add_nodes_from(systems, type="system")
        self.graph.add_edges_from(edges)

    def remove_events(self, event_ids: Iterable[str]) -> None:
        """Remove event nodes (and so their edges)."""
        self.graph.remove_nodes_from(event_node(e) for e in event_ids)

    def remove_user(self, user_id: str) -> None:
        """Remove a user's node (their events must be removed separately)."""
        if self.graph.has_node(user_node(user_id)):
            self.graph.remove_node(user_node(user_id))

    def systems_of_user(self, user_id: str) -> set[str]:
        """Systems affected by any event the user reported."""
        node = user_node(user_id)
        if not self.graph.has_node(node):
            return set()
        systems: set[str] = set()
        for event in self.graph.predecessors(node):
            systems.update(s.removeprefix("system:") for _, s, k in self.graph.out_edges(event, keys=True)
                           if k == AFFECTS)
        return systems

    def set_dependencies(self, topology: dict[str, list[str]]) -> None:
        """Replace the `depends_on` edges between system nodes with `topology` (system -> depends_on)."""
        old = [(a, b, k) for a, b, k in self.graph.edges(keys=True) if k == DEPENDS_ON]
        self.graph.remove_edges_from(old)
        dependencies = nx.DiGraph()
        dependencies.add_nodes_from(topology)
        dependencies.add_edges_from((s, d) for s, deps in topology.items() for d in deps)
        self.dependencies = dependencies
        self.graph.add_nodes_from((system_node(s) for s in dependencies.nodes), type="system")
        self.graph.add_edges_from((system_node(a), system_node(b), DEPENDS_ON) for a, b in dependencies.edges)

    def event_count(self) -> int:
        """Number of event nodes."""
        return sum(1 for _, data in self.graph.nodes(data=True) if data.get("type") == "event")
