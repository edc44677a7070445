"""Operational tables: the topology and alert updates are durable, transactional and rebuild the graph."""
from __future__ import annotations

from pathlib import Path

import pytest

from context_store import AttributeUpdate, EmbeddedStore, StaleUpdateError
from tests.test_persistence import crash, open_store
from tests.test_store_contract import corpus

TOPOLOGY = {"web": ["api", "auth"], "api": ["db"], "db": []}


def test_topology_survives_a_crash_and_rebuilds_the_graph(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    store.add_events(corpus())
    store.operations.set_topology(TOPOLOGY, "2026-03-01T00:00:00+00:00")
    crash(store)  # no close, no checkpoint: only what SQLite committed survives
    again = open_store(tmp_path / "data")
    assert again.operations.topology() == (TOPOLOGY, "2026-03-01T00:00:00+00:00")
    assert sorted(again.operations.dependencies.edges) == [("api", "db"), ("web", "api"), ("web", "auth")]
    depends = sorted((a, b) for a, b, k in again.graph.edges(keys=True) if k == "depends_on")
    assert depends == [("system:api", "system:db"), ("system:web", "system:api"), ("system:web", "system:auth")]
    assert again.graph.nodes["system:db"]["type"] == "system"
    again.close()


def test_topology_is_replaced_whole(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    store.operations.set_topology(TOPOLOGY, "t1")
    store.operations.set_topology({"web": ["cdn"]}, "t2")
    assert store.operations.topology() == ({"web": ["cdn"]}, "t2")
    assert [(a, b) for a, b, k in store.graph.edges(keys=True) if k == "depends_on"] == [("system:web", "system:cdn")]
    store.close()
    again = open_store(tmp_path / "data")
    assert again.operations.topology() == ({"web": ["cdn"]}, "t2")
    again.close()


def stored_hash(store: EmbeddedStore, event_id: str) -> str:
    record = store.get_event(event_id)
    assert record is not None
    return record.content_hash


def test_attribute_updates_are_all_or_nothing_and_durable(tmp_path: Path) -> None:
    store = open_store(tmp_path / "data")
    events = corpus()
    store.add_events(events)
    first, second = events[0].record.id, events[1].record.id
    good = AttributeUpdate(first, {"status": "resolved"}, "h-new", stored_hash(store, first))
    stale = AttributeUpdate(second, {"status": "resolved"}, "h-new2", "not-the-stored-hash")
    with pytest.raises(StaleUpdateError) as caught:
        store.operations.update_attributes([good, stale])
    assert caught.value.ids == [second]
    assert store.get_event(first).attributes == events[0].record.attributes  # rolled back with the stale one
    store.operations.update_attributes([good])
    crash(store)
    again = open_store(tmp_path / "data")
    record = again.get_event(first)
    assert record.attributes == {"status": "resolved"} and record.content_hash == "h-new"
    assert record.title == events[0].record.title and record.seq == 1  # updated in place, not re-added
    assert again.count() == len(events)
    again.close()
