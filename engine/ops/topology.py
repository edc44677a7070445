"""The service dependency graph: its document format (JSON or YAML) and path questions over it.

Format (`PUT /v1/topology`)::

    systems:
      web-frontend:
        depends_on: [checkout-api, auth]
      checkout-api: [payments-db]      # shorthand: the list alone
      payments-db: {}                  # a leaf may be declared, or only named as a dependency

Edge direction: ``a depends_on b`` means b is *upstream* of a (a failure of b can show on a).
"""
from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Iterable
from typing import Annotated

import networkx as nx
import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

MAX_SYSTEMS = 5_000
MAX_DEPENDENCIES = 200
SystemName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")


class TopologyFormatError(ValueError):
    """The body is not parseable JSON/YAML; `loc` is empty, the message says where."""


class SystemSpec(BaseModel):
    """One system's entry."""

    model_config = ConfigDict(extra="forbid")
    depends_on: list[SystemName] = Field(default_factory=list, max_length=MAX_DEPENDENCIES)


class TopologyIn(BaseModel):
    """The whole graph; a PUT replaces the stored one."""

    model_config = ConfigDict(extra="forbid")
    systems: dict[SystemName, SystemSpec | list[SystemName]] = Field(max_length=MAX_SYSTEMS)

    @model_validator(mode="after")
    def _no_self_dependency(self) -> "TopologyIn":
        for name, deps in self.as_mapping().items():
            if name in deps:
                raise ValueError(f"system {name!r} depends on itself")
        return self

    def as_mapping(self) -> dict[str, list[str]]:
        """system -> the systems it depends on (duplicates dropped, order kept)."""
        return {name: list(dict.fromkeys(spec.depends_on if isinstance(spec, SystemSpec) else spec))
                for name, spec in self.systems.items()}


def parse_document(body: bytes, content_type: str) -> object:
    """JSON (the default) or YAML (by content type) into plain data."""
    kind = content_type.split(";")[0].strip().lower()
    try:
        if kind in YAML_TYPES:
            return yaml.safe_load(body.decode("utf-8"))
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError, yaml.YAMLError) as exc:
        raise TopologyFormatError(f"the body is not valid {'YAML' if kind in YAML_TYPES else 'JSON'}: {exc}") from exc


def _shortest_paths(systems: Iterable[str], limit: int,
                    neighbours: Callable[[str], Iterable[str]], graph: nx.DiGraph) -> dict[str, list[str]]:
    """Breadth-first shortest paths from any of `systems`, at most `limit` edges; starts left out."""
    starts = [s for s in dict.fromkeys(systems) if s in graph]
    paths: dict[str, list[str]] = {s: [s] for s in starts}
    queue = deque(starts)
    while queue:
        node = queue.popleft()
        if len(paths[node]) > limit:
            continue
        for other in neighbours(node):
            if other not in paths:
                paths[other] = [*paths[node], other]
                queue.append(other)
    return {s: p for s, p in paths.items() if len(p) > 1}


def related_systems(graph: nx.DiGraph, systems: Iterable[str], max_hops: int) -> dict[str, list[str]]:
    """Systems within `max_hops` dependency edges (either direction) of `systems`, each with the
    shortest path from one of `systems` to it."""
    return _shortest_paths(systems, max_hops, lambda n: (*graph.successors(n), *graph.predecessors(n)), graph)


def upstream_paths(graph: nx.DiGraph, systems: Iterable[str], max_depth: int = 6) -> dict[str, list[str]]:
    """Systems that `systems` depend on, directly or transitively, each with its shortest path."""
    return _shortest_paths(systems, max_depth, graph.successors, graph)


def describe_path(graph: nx.DiGraph, path: list[str]) -> str:
    """'web -> api -> db' where each arrow reads 'depends on'; '<-' where the edge runs the other way."""
    out = path[0]
    for a, b in zip(path, path[1:]):
        out += f" -> {b}" if graph.has_edge(a, b) else f" <- {b}"
    return out
