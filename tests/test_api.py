"""The HTTP API over an in-memory engine with the hashing embedder."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.cli import DEMO_STREAM
from api.demo_loader import load_demo
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

EVENTS: list[dict[str, Any]] = [
    {"id": "fb-1", "title": "Failed transaction", "text": "payment failed on invoice", "user_id": "u-1042",
     "systems": ["payments"], "occurred_at": "2026-03-02T09:00:00Z"},
    {"id": "fb-2", "title": "Payments page not responding", "text": "invoice page spinner", "user_id": "u-1042",
     "systems": ["payments"], "occurred_at": "2026-03-04T09:00:00Z"},
    {"id": "fb-3", "title": "Payslip question", "text": "overtime counted twice", "user_id": "u-1042",
     "systems": ["hr-portal"], "occurred_at": "2026-03-05T09:00:00Z"},
    {"id": "al-1", "kind": "alert", "title": "payments latency high", "text": "invoice page p95 above 8s",
     "systems": ["payments"], "channel": "monitoring", "occurred_at": "2026-03-04T09:30:00Z"},
    {"id": "fb-4", "title": "SSO login loop", "text": "login redirect loop", "user_id": "u-2001",
     "systems": ["auth"], "occurred_at": "2026-03-02T08:00:00Z"},
]


@pytest.fixture
def client() -> Iterator[TestClient]:
    """A running app (lifespan entered) with an empty in-memory engine."""
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()))
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def loaded(client: TestClient) -> TestClient:
    """The app holding EVENTS."""
    response = client.post("/v1/events", json={"events": EVENTS})
    assert response.status_code == 201 and response.json()["created"] == len(EVENTS)
    return client


def count(client: TestClient) -> int:
    """Stored events, from /healthz."""
    return client.get("/healthz").json()["events"]


def test_post_single_event_201_then_200(client: TestClient) -> None:
    """A new event is 201; re-posting the same content is 200 and unchanged."""
    first = client.post("/v1/events", json=EVENTS[0])
    assert first.status_code == 201
    body = first.json()
    assert body["results"][0].pop("triage")["category"]["source"] == "inferred"  # tests/test_triage_api.py
    assert body == {"created": 1, "unchanged": 0,
                    "results": [{"id": "fb-1", "status": "created", "narrative_id": "N-000001"}]}
    again = client.post("/v1/events", json=EVENTS[0])
    assert again.status_code == 200 and again.json()["unchanged"] == 1
    assert again.json()["results"][0]["narrative_id"] == "N-000001"  # says where the known event lives
    mixed = client.post("/v1/events", json={"events": [EVENTS[0], EVENTS[1]]})
    assert mixed.status_code == 201
    assert [r["status"] for r in mixed.json()["results"]] == ["unchanged", "created"]


def test_conflict_409_names_ids_and_stores_nothing(loaded: TestClient) -> None:
    """Other content under a known id is 409 with the ids; the batch's new events are not stored."""
    new = {"id": "fb-9", "text": "new report"}
    response = loaded.post("/v1/events", json={"events": [new, EVENTS[1] | {"text": "edited"}]})
    assert response.status_code == 409 and response.json()["detail"]["ids"] == ["fb-2"]
    assert loaded.get("/v1/events/fb-9").status_code == 404 and count(loaded) == len(EVENTS)
    assert loaded.get("/v1/events/fb-2").json()["text"] == EVENTS[1]["text"]


@pytest.mark.parametrize(("change", "loc"), [
    ({"title": "", "text": "   "}, ["body", "text"]),
    ({"occurred_at": "2026-03-02T09:00:00"}, ["body", "occurred_at"]),
    ({"text": "x" * 20_001}, ["body", "text"]),
    ({"severity": "high"}, ["body", "severity"]),
    ({"systems": "payments"}, ["body", "systems"]),
    ({"kind": "incident"}, ["body", "kind"]),
])
def test_invalid_single_event_is_422_naming_the_field(client: TestClient, change: dict, loc: list) -> None:
    """Validation errors are 422 with the offending field in loc; nothing is stored."""
    response = client.post("/v1/events", json=EVENTS[0] | change)
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [loc]
    assert count(client) == 0


@pytest.mark.parametrize(("change", "field"), [({"text": "", "title": ""}, "text"),
                                               ({"occurred_at": "2026-03-02T09:00:00"}, "occurred_at"),
                                               ({"unknown": 1}, "unknown")])
def test_invalid_batch_event_names_its_index(client: TestClient, change: dict, field: str) -> None:
    """In a batch the loc is ["body", "events", i, field] and no event of the batch is stored."""
    response = client.post("/v1/events", json={"events": [EVENTS[0], EVENTS[1] | change, EVENTS[2]]})
    assert response.status_code == 422
    assert [e["loc"] for e in response.json()["detail"]] == [["body", "events", 1, field]]
    assert count(client) == 0


def test_malformed_bodies_are_422(client: TestClient) -> None:
    """Empty batches, non-objects and extra batch keys are refused."""
    for body in ({"events": []}, [EVENTS[0]], {"events": [EVENTS[0]], "extra": 1}):
        assert client.post("/v1/events", json=body).status_code == 422
    assert count(client) == 0


def test_get_event_and_404(loaded: TestClient) -> None:
    """A stored event comes back as stored; an unknown id is a JSON 404."""
    body = loaded.get("/v1/events/al-1").json()
    assert (body["kind"], body["systems"], body["channel"]) == ("alert", ["payments"], "monitoring")
    assert body["occurred_at"].startswith("2026-03-04T09:30:00")
    missing = loaded.get("/v1/events/nope")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]
    assert loaded.get("/v1/events/nope/related").status_code == 404


def test_related_with_filters(loaded: TestClient) -> None:
    """Related reports carry evidence and honour query-string filters."""
    hits = loaded.get("/v1/events/fb-1/related", params={"k": 10}).json()
    assert "fb-1" not in {h["event"]["id"] for h in hits} and len(hits) == 4
    fb2 = next(h for h in hits if h["event"]["id"] == "fb-2")["evidence"]
    assert fb2["same_user"] and fb2["shared_systems"] == ["payments"] and fb2["time_gap_hours"] == 48.0
    only = loaded.get("/v1/events/fb-1/related", params={"kinds": "alert"}).json()
    assert [h["event"]["id"] for h in only] == ["al-1"]
    systems = loaded.get("/v1/events/fb-2/related", params=[("systems", "auth"), ("systems", "hr-portal")]).json()
    assert {h["event"]["id"] for h in systems} == {"fb-3", "fb-4"}
    earlier = loaded.get("/v1/events/fb-2/related", params={"earlier_only": "true"}).json()
    assert {h["event"]["id"] for h in earlier} == {"fb-1", "fb-4"}
    window = loaded.get("/v1/events/fb-1/related", params={"since": "2026-03-04T09:00:00Z",
                                                           "until": "2026-03-05T00:00:00+00:00"}).json()
    assert {h["event"]["id"] for h in window} == {"fb-2", "al-1"}
    assert len(loaded.get("/v1/events/fb-1/related", params={"k": 1}).json()) == 1


@pytest.mark.parametrize(("params", "loc"), [({"since": "2026-03-04T09:00:00"}, ["query", "since"]),
                                             ({"until": "2026-03-04T09:00:00"}, ["query", "until"]),
                                             ({"k": 0}, ["query", "k"]),
                                             ({"kinds": "incident"}, ["query", "kinds", 0])])
def test_related_bad_query_is_422(loaded: TestClient, params: dict, loc: list) -> None:
    """Naive timestamps and out-of-range values are 422 naming the parameter."""
    response = loaded.get("/v1/events/fb-1/related", params=params)
    assert response.status_code == 422 and [e["loc"] for e in response.json()["detail"]] == [loc]


def test_search(loaded: TestClient) -> None:
    """Free-text search ranks with evidence, context and filters; bad bodies are 422."""
    hits = loaded.post("/v1/search", json={"text": "invoice page", "k": 3}).json()
    assert len(hits) == 3 and hits[0]["evidence"]["time_gap_hours"] is None
    assert "invoice" in hits[0]["evidence"]["shared_terms"]
    ctx = loaded.post("/v1/search", json={"text": "invoice page", "user_id": "u-1042", "systems": ["payments"]}).json()
    assert next(h for h in ctx if h["event"]["id"] == "fb-2")["evidence"]["same_user"]
    alerts = loaded.post("/v1/search", json={"text": "invoice page", "filters": {"kinds": ["alert"]}}).json()
    assert [h["event"]["id"] for h in alerts] == ["al-1"]
    for bad, loc in (({"text": ""}, ["body", "text"]), ({"text": "x", "k": 101}, ["body", "k"]),
                     ({"text": "x", "filters": {"since": "2026-03-01T00:00:00"}}, ["body", "filters", "since"])):
        response = loaded.post("/v1/search", json=bad)
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == loc


def test_histories(loaded: TestClient) -> None:
    """User and system histories page and window in time order; naive bounds are 422."""
    user = loaded.get("/v1/users/u-1042/history").json()
    assert [e["id"] for e in user["events"]] == ["fb-1", "fb-2", "fb-3"] and user["subject"] == "u-1042"
    page = loaded.get("/v1/users/u-1042/history", params={"limit": 1, "offset": 1}).json()
    assert [e["id"] for e in page["events"]] == ["fb-2"] and (page["limit"], page["offset"]) == (1, 1)
    system = loaded.get("/v1/systems/payments/history", params={"since": "2026-03-04T00:00:00Z",
                                                                "until": "2026-03-04T09:30:00Z"}).json()
    assert [e["id"] for e in system["events"]] == ["fb-2"]
    assert loaded.get("/v1/systems/auth/history").json()["events"][0]["id"] == "fb-4"
    naive = loaded.get("/v1/systems/payments/history", params={"until": "2026-03-04T00:00:00"})
    assert naive.status_code == 422 and naive.json()["detail"][0]["loc"] == ["query", "until"]
    assert loaded.get("/v1/users/u-1042/history", params={"limit": 0}).status_code == 422


def test_delete_user(loaded: TestClient) -> None:
    """Erasure reports the count, removes the events everywhere and is idempotent."""
    response = loaded.delete("/v1/users/u-1042")
    assert response.status_code == 200 and response.json() == {"user_id": "u-1042", "erased_events": 3}
    assert loaded.get("/v1/events/fb-1").status_code == 404
    assert loaded.get("/v1/users/u-1042/history").json()["events"] == []
    assert {h["event"]["id"] for h in loaded.get("/v1/events/al-1/related").json()} == {"fb-4"}
    assert loaded.delete("/v1/users/u-1042").json()["erased_events"] == 0 and count(loaded) == 2


def test_healthz_openapi_and_docs(loaded: TestClient) -> None:
    """Health reports sizes and the model; the OpenAPI schema and docs page are served."""
    health = loaded.get("/healthz").json()
    assert health == {"status": "ok", "events": 5, "vectors": 5, "index": "exact", "model": "test-hashing-64"}
    schema = loaded.get("/openapi.json").json()
    assert {"/v1/events", "/v1/search", "/v1/users/{user_id}", "/healthz"} <= set(schema["paths"])
    assert {"EventIn", "EventBatchIn", "EventKind"} <= set(schema["components"]["schemas"])
    body = schema["paths"]["/v1/events"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert {"$ref": "#/components/schemas/EventIn"} in body["oneOf"]
    docs = loaded.get("/docs")
    assert docs.status_code == 200 and "swagger" in docs.text.lower()


def test_demo_stream_loads_on_ready() -> None:
    """The bundled demo stream validates, loads idempotently and holds the guiding example."""
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()),
                     on_ready=lambda engine: load_demo(engine, DEMO_STREAM))
    with TestClient(app) as demo:
        assert 40 <= count(demo) <= 50
        assert load_demo(demo.app.state.engine, DEMO_STREAM) == 0
        history = demo.get("/v1/users/u-1042/history").json()["events"]
        assert [e["systems"] for e in history].count(["payments"]) == 3
        assert any("hr-portal" in e["systems"] for e in history)
        hits = demo.get("/v1/events/fb-1001/related", params={"k": 100}).json()
        later = next(h["evidence"] for h in hits if h["event"]["id"] == "fb-1013")
        assert later["same_user"] and later["shared_systems"] == ["payments"] and later["time_gap_hours"] > 0
        auth = demo.get("/v1/systems/auth/history", params={"limit": 1000}).json()["events"]
        assert len({e["user_id"] for e in auth if e["kind"] == "feedback"}) >= 3
        assert {"monitoring", "deploy"} <= {e["channel"] for e in auth}


def test_event_id_with_slash_is_refused(client: TestClient) -> None:
    """Ids must be addressable in a URL path: a '/' is refused on body.id and nothing is stored."""
    response = client.post("/v1/events", json={"id": "team/42", "text": "hello"})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "id"]
    assert client.get("/healthz").json()["events"] == 0


def test_blank_search_text_is_422(client: TestClient) -> None:
    """A whitespace-only search is refused on body.text."""
    response = client.post("/v1/search", json={"text": "   "})
    assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["body", "text"]


def test_failed_on_ready_releases_the_store(tmp_path: Path) -> None:
    """If the start-up hook fails, the engine is closed and the data dir can be opened again."""
    def boom(_: Engine) -> None:
        raise RuntimeError("bad demo")

    settings = Settings(backend="embedded", data_dir=tmp_path)
    app = create_app(settings, lambda s: Engine(s, embedder=HashingEmbedder()), on_ready=boom)
    with pytest.raises(RuntimeError, match="bad demo"), TestClient(app):
        pass
    Engine(settings, embedder=HashingEmbedder()).close()
