"""Suspect changes and probable origin over a real (in-memory) store with the hashing embedder."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from context_store import EventRecord
from engine import Engine, EventIn, Settings
from engine.ops.changes import ChangeIn
from engine.ops.suspects import operational_view, probable_origin, suspect_changes
from tests.fakes import HashingEmbedder

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)  # the narrative's first report
WINDOW = timedelta(hours=48)
TOPOLOGY = {"web": ["api"], "api": ["db"], "admin": ["db"], "hr": []}


def change(cid: str, system: str, hours_before: float, version: str = "1.0", text: str = "") -> EventIn:
    return ChangeIn(id=cid, systems=[system], version=version, description=text,
                    occurred_at=T0 - timedelta(hours=hours_before)).to_event()


def report(rid: str, system: str, hours_after: float, kind: str = "feedback",
           text: str = "checkout page hangs on pay") -> EventIn:
    return EventIn(id=rid, kind=kind, text=text, systems=[system], occurred_at=T0 + timedelta(hours=hours_after))


@pytest.fixture
def engine() -> Engine:
    engine = Engine(Settings(backend="memory"), embedder=HashingEmbedder())
    engine.set_topology(TOPOLOGY)
    engine.ingest([
        change("c-web", "web", 10), change("c-api", "api", 2, "2.3"), change("c-db", "db", 30),
        change("c-hr", "hr", 1), change("c-late", "web", -1), change("c-old", "web", 72),
        change("c-admin", "admin", 3),  # admin depends on db too, but is not upstream of web
        report("r1", "web", 0), report("r2", "web", 1), report("a1", "db", 0.5, "alert", "db pool exhausted"),
    ])
    return engine


def members(engine: Engine, *ids: str) -> list[EventRecord]:
    return [engine.get_event(i) for i in ids]


def test_suspects_are_same_or_upstream_within_the_window_ranked(engine: Engine) -> None:
    found = suspect_changes(engine.store, members(engine, "r1", "r2"), WINDOW)
    assert [s.event.id for s in found] == ["c-web", "c-api", "c-db"]
    web, api, db = found
    assert web.relation == "same_system" and web.reasons[0] == "same system: web" and web.hours_before == 10
    assert api.relation == "upstream" and api.path == "web -> api"
    assert api.reasons[0] == "upstream of web via web -> api (1 hop)"
    assert api.reasons[1].startswith("2 h 00 min before the first report (r1, 2026-03-02 12:00 UTC)")
    assert "version 2.3" in api.reasons
    assert db.path == "web -> api -> db" and "(2 hops)" in db.reasons[0]
    assert web.score > api.score > db.score


def test_an_affected_upstream_system_makes_its_changes_same_system(engine: Engine) -> None:
    found = suspect_changes(engine.store, members(engine, "r1", "a1"), WINDOW)
    db = next(s for s in found if s.event.id == "c-db")
    assert db.relation == "same_system" and db.system == "db"
    assert "c-admin" not in [s.event.id for s in found]


def test_window_is_configurable(engine: Engine) -> None:
    assert [s.event.id for s in suspect_changes(engine.store, members(engine, "r1"), timedelta(hours=5))] == ["c-api"]
    wide = suspect_changes(engine.store, members(engine, "r1"), timedelta(hours=100))
    assert "c-old" in [s.event.id for s in wide]


def test_changes_inside_the_narrative_do_not_move_its_start(engine: Engine) -> None:
    found = suspect_changes(engine.store, members(engine, "c-api", "r1"), WINDOW)
    assert [s.event.id for s in found][:2] == ["c-web", "c-api"]  # anchored at r1, not at the change


def test_probable_origin_is_the_most_upstream_affected_system(engine: Engine) -> None:
    origin = probable_origin(engine.store, members(engine, "r1", "a1"))
    assert origin is not None and origin.system == "db" and origin.basis == "topology"
    assert origin.downstream == ["web"]
    assert origin.reasons[0] == "web depends on it (web -> api -> db)"
    assert origin.reasons[-1].startswith("first event on it: a1 (alert)")


def test_probable_origin_without_topology_is_the_first_hit(engine: Engine) -> None:
    engine.set_topology({})
    origin = probable_origin(engine.store, members(engine, "r1", "a1"))
    assert origin.system == "web" and origin.basis == "first_hit"
    assert "no dependency between the affected systems is known" in origin.reasons[0]
    single = probable_origin(engine.store, members(engine, "r1", "r2"))
    assert single.system == "web" and single.basis == "only_system"


def test_dependency_cycle_does_not_hide_the_origin(engine: Engine) -> None:
    engine.set_topology({"web": ["api"], "api": ["db"], "db": ["api"]})  # api and db depend on each other
    origin = probable_origin(engine.store, members(engine, "r1", "a1"))
    assert origin.system == "db" and origin.downstream == ["web"]


def test_view_of_a_narrative_without_reports_is_empty(engine: Engine) -> None:
    view = operational_view(engine.store, members(engine, "c-web"), WINDOW)
    assert view.suspect_changes == [] and view.probable_origin is None
