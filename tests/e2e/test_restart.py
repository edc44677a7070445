"""Graceful restart and erasure: stop the server by signal, start it again on the same data dir."""
from __future__ import annotations

import signal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Server, corpus, ids_of, lock_is_free, snapshot_meta

pytestmark = pytest.mark.e2e

ERASED_USER = "zoe"
ERASED_EVENTS = [
    {"id": "zoe-1", "title": "Payment failed again",
     "text": "My card payment failed at checkout again with a declined transaction.",
     "user_id": ERASED_USER, "systems": ["checkout"], "occurred_at": "2026-11-27T09:40:00Z"},
    {"id": "zoe-2", "title": "Printer has no toner",
     "text": "Our printer ran out of toner this morning.",
     "user_id": ERASED_USER, "systems": ["facilities"], "occurred_at": "2026-11-27T09:50:00Z"},
]
SEARCHES = ["credit card payment declined", "printer toner empty", "vpn connection drops"]


def _state(server: Server, ids: list[str]) -> dict[str, Any]:
    """Everything a client can observe about the stored events."""
    return {
        "events": {i: server.get(i).json() for i in ids},
        "related": {i: server.related(i, k=20) for i in ids},
        "related_filtered": {i: server.related(i, k=5, earlier_only="true") for i in ids[:3]},
        "search": {q: server.search(q, k=10) for q in SEARCHES},
        "histories": {u: server.user_history(u) for u in ("alice", "bob", "dave", ERASED_USER)},
        "system_histories": {s: server.client.get(f"/v1/systems/{s}/history").json()["events"]
                             for s in ("checkout", "facilities")},
        "health": server.health(),
    }


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("restart") / "data"


@pytest.fixture(scope="module")
def first_run(launch, data_dir: Path) -> dict[str, Any]:
    """Ingest, erase one user, record what clients see, stop with SIGTERM."""
    server = launch(data_dir)
    server.ingest(corpus()[:4])
    for event in corpus()[4:]:  # the rest one by one
        assert server.post_events(event).status_code == 201
    server.ingest(ERASED_EVENTS)

    before_erasure = {
        "related": ids_of(server.related("pay-1", k=20)),
        "search": ids_of(server.search("card payment declined at checkout", k=20)),
        "history": [e["id"] for e in server.user_history(ERASED_USER)],
        "health": server.health(),
    }
    erasure = server.client.delete(f"/v1/users/{ERASED_USER}")
    assert erasure.status_code == 200, erasure.text
    again = server.client.delete(f"/v1/users/{ERASED_USER}")  # idempotent

    ids = [e["id"] for e in corpus()]
    state = _state(server, ids)
    returncode = server.stop(signal.SIGTERM)
    return {"server": server, "ids": ids, "state": state, "before_erasure": before_erasure,
            "erasure": erasure.json(), "erasure_again": again.json(), "returncode": returncode}


@pytest.fixture(scope="module")
def second_run(launch, data_dir: Path, first_run) -> Server:
    return launch(data_dir)


def test_erasure_removes_the_users_events(first_run) -> None:
    before = first_run["before_erasure"]
    assert "zoe-1" in before["related"] and "zoe-1" in before["search"]  # erasure has something to remove
    assert before["history"] == ["zoe-1", "zoe-2"]
    assert first_run["erasure"] == {"user_id": ERASED_USER, "erased_events": 2}
    assert first_run["erasure_again"] == {"user_id": ERASED_USER, "erased_events": 0}
    state = first_run["state"]
    assert state["histories"][ERASED_USER] == []
    for events in state["system_histories"].values():
        assert events and all(e["user_id"] != ERASED_USER for e in events)
    for hits in [*state["related"].values(), *state["search"].values()]:
        assert not {"zoe-1", "zoe-2"} & set(ids_of(hits))
        assert all(h["event"]["user_id"] != ERASED_USER for h in hits)
    health = state["health"]
    assert health["events"] == health["vectors"] == before["health"]["events"] - 2


def test_graceful_stop_writes_the_vector_snapshot(first_run, data_dir: Path) -> None:
    server = first_run["server"]
    assert not server.alive()
    assert "Application shutdown complete" in server.log()
    assert (data_dir / "vectors.faiss").is_file()
    meta = snapshot_meta(data_dir)
    assert meta["count"] - len(meta["tombstones"]) == first_run["state"]["health"]["vectors"]
    assert lock_is_free(data_dir)


def test_restart_loads_the_snapshot_instead_of_rebuilding(second_run: Server, first_run) -> None:
    health = second_run.health()
    assert health == first_run["state"]["health"]
    assert health["events"] == health["vectors"] == len(first_run["ids"])
    assert "rebuilding it from SQLite" not in second_run.log()


@pytest.fixture(scope="module")
def intruder(launch, data_dir: Path, second_run: Server) -> Server:
    """A second `serve` on the data dir the running server holds (not waited for: it must not start)."""
    return launch(data_dir, wait=False)


def test_restart_keeps_every_event_and_every_answer(second_run: Server, first_run, intruder) -> None:
    # `intruder` only starts the competing process here, so its model load overlaps these checks
    state = _state(second_run, first_run["ids"])
    before = first_run["state"]
    assert state["events"] == before["events"]
    assert state["related"] == before["related"]
    assert state["related_filtered"] == before["related_filtered"]
    assert state["search"] == before["search"]
    assert state["histories"] == before["histories"]
    assert state["system_histories"] == before["system_histories"]


def test_erasure_survives_the_restart(second_run: Server) -> None:
    for event in ERASED_EVENTS:
        assert second_run.get(event["id"]).status_code == 404
    assert second_run.user_history(ERASED_USER) == []
    for hits in (second_run.related("pay-1", k=50), second_run.search("card payment declined at checkout", k=50),
                 second_run.search("printer ran out of toner", k=50)):
        assert not {"zoe-1", "zoe-2"} & set(ids_of(hits))


def test_second_server_on_the_same_data_dir_refuses_to_start(second_run: Server, intruder: Server) -> None:
    before = second_run.health()
    intruder.proc.wait(240)
    assert intruder.proc.returncode != 0
    assert "is in use by another hypercorr process" in intruder.log()
    assert second_run.health() == before  # the running server is untouched


def test_second_server_reports_the_lock_cleanly(intruder: Server) -> None:
    intruder.proc.wait(240)
    assert intruder.proc.returncode == 2
    assert "Traceback" not in intruder.log()


def test_ingest_after_restart_then_sigint(second_run: Server, data_dir: Path) -> None:
    event = {"id": "after-restart", "title": "Checkout payment rejected",
             "text": "The payment was rejected at checkout with a card transaction error.",
             "user_id": "bob", "systems": ["checkout"], "occurred_at": "2026-11-27T13:00:00Z"}
    assert second_run.post_events(event).status_code == 201
    assert "after-restart" in ids_of(second_run.related("pay-2", k=3))
    health = second_run.health()
    assert health["events"] == health["vectors"]

    second_run.stop(signal.SIGINT)
    assert "Application shutdown complete" in second_run.log()
    assert lock_is_free(data_dir)
    meta = snapshot_meta(data_dir)
    assert meta["count"] - len(meta["tombstones"]) == health["vectors"]
