"""`hypercorr serve --demo`: loads the bundled demo stream, and a second start adds nothing."""
from __future__ import annotations

import json
import re
import signal
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import DEMO_OVERRIDE_ENV, REPO_DEMO_STREAM, Server, ServerError, corpus, ids_of

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Any]:
    """The demo stream: api/demo/stream.jsonl, or (while it does not exist yet) a copy in tmp."""
    env: dict[str, str] = {}
    path = REPO_DEMO_STREAM
    if not (path.is_file() and path.read_text().strip()):
        path = tmp_path_factory.mktemp("demo-stream") / "stream.jsonl"
        path.write_text("".join(json.dumps(e) + "\n" for e in corpus()))
        env = {DEMO_OVERRIDE_ENV: str(path)}
    events = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return {"path": path, "env": env, "events": {e["id"]: e for e in events}, "lines": len(events)}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo") / "data"


@pytest.fixture(scope="module")
def over_limit(launch, tmp_path_factory, demo) -> Server:
    """A --demo server whose batch limit is below the demo size; started early so its model load overlaps."""
    limit = max(1, len(demo["events"]) - 1)
    env = demo["env"] | {"HYPERCORR_MAX_BATCH_EVENTS": str(limit)}
    return launch(tmp_path_factory.mktemp("demo-limit") / "data", demo=True, extra_env=env, wait=False)


@pytest.fixture(scope="module")
def first_run(launch, data_dir: Path, demo, over_limit) -> dict[str, Any]:
    server = launch(data_dir, demo=True, extra_env=demo["env"])
    return {"server": server, "health": server.health()}


def _loaded_line(server: Server) -> tuple[int, int]:
    found = re.findall(r"demo stream: (\d+) events, (\d+) new", server.log())
    assert found, server.log_tail()
    return int(found[-1][0]), int(found[-1][1])


def test_demo_stream_is_loaded(first_run, demo) -> None:
    server: Server = first_run["server"]
    n = len(demo["events"])
    assert n >= 2
    assert first_run["health"]["events"] == first_run["health"]["vectors"] == n
    assert _loaded_line(server) == (demo["lines"], n)
    for event_id, sent in demo["events"].items():
        response = server.get(event_id)
        assert response.status_code == 200, event_id
        stored = response.json()
        assert stored["title"] == sent.get("title", "").strip()
        assert stored["text"] == sent.get("text", "").strip()
        assert stored["kind"] == sent.get("kind", "feedback")


def test_demo_events_are_related_with_evidence(first_run, demo) -> None:
    server: Server = first_run["server"]
    anchor = next(iter(demo["events"]))
    hits = server.related(anchor, k=5)
    assert hits and anchor not in ids_of(hits)
    assert all(0 < h["score"] and -1 <= h["evidence"]["semantic"] <= 1 for h in hits)
    first = demo["events"][anchor]
    searched = server.search(first.get("title") or first["text"], k=3)
    assert anchor in ids_of(searched)


def test_second_demo_start_adds_nothing(launch, first_run, data_dir: Path, demo) -> None:
    server: Server = first_run["server"]
    extra = {"id": "demo-extra-1", "text": "A report posted by a client while the demo server ran.",
             "occurred_at": "2026-03-03T10:00:00Z"}
    assert server.post_events(extra).status_code == 201
    before = server.health()
    server.stop(signal.SIGTERM)

    again = launch(data_dir, demo=True, extra_env=demo["env"])
    assert again.health() == before
    assert _loaded_line(again) == (demo["lines"], 0)
    assert again.get("demo-extra-1").status_code == 200
    again.stop(signal.SIGTERM)


def test_demo_larger_than_the_batch_limit_still_loads(over_limit: Server, demo) -> None:
    over_limit.wait_ready()
    assert over_limit.health()["events"] == len(demo["events"])
