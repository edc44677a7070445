"""Triage through the HTTP API (in-process app, hashing embedder) and across a restart."""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

ROUTES = {"payroll": "hr-systems", "payments": "fin-apps"}
EVENTS: list[dict[str, Any]] = [
    {"id": "fb-1", "title": "Payslip shows wrong overtime", "text": "overtime hours counted twice on the payslip",
     "user_id": "u-1", "systems": ["payroll"], "occurred_at": "2026-03-02T09:00:00Z"},
    {"id": "fb-2", "title": "Invoice page slow", "text": "the invoice page takes minutes to load",
     "user_id": "u-2", "systems": ["payments"], "occurred_at": "2026-03-02T10:00:00Z",
     "impact": "critical", "urgency": "high"},
    {"id": "al-1", "kind": "alert", "title": "payments latency high", "systems": ["payments"],
     "occurred_at": "2026-03-02T10:05:00Z"},
]


def make_app(settings: Settings) -> Any:
    return create_app(settings, lambda s: Engine(s, embedder=HashingEmbedder()))


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(make_app(Settings(backend="memory", triage_routes=ROUTES))) as test_client:
        assert test_client.post("/v1/events", json={"events": EVENTS}).status_code == 201
        yield test_client


def test_ingest_answer_carries_triage_for_feedback_only() -> None:
    with TestClient(make_app(Settings(backend="memory", triage_routes=ROUTES))) as c:
        results = {r["id"]: r for r in c.post("/v1/events", json={"events": EVENTS}).json()["results"]}
        assert results["al-1"]["triage"] is None
        triage = results["fb-2"]["triage"]
        assert set(triage) == {"category", "sentiment", "priority", "team"}
        assert all(0.0 <= f["confidence"] <= 1.0 and f["source"] == "inferred" for f in triage.values())
        assert triage["priority"]["value"] == "P1"  # critical x high, as the reporter gave them
        assert triage["priority"]["confidence"] == 1.0
        assert triage["team"]["value"] == "fin-apps"
        assert triage["sentiment"]["value"] in {"negative", "neutral", "positive"}
        assert "score" in triage["sentiment"]["detail"]
        again = c.post("/v1/events", json=EVENTS[1]).json()["results"][0]  # unchanged: same triage back
        assert again["status"] == "unchanged" and again["triage"] == triage


def test_get_event_returns_triage(client: TestClient) -> None:
    event = client.get("/v1/events/fb-1").json()
    assert event["triage"]["team"]["value"] == "hr-systems"
    assert client.get("/v1/events/al-1").json()["triage"] is None
    assert client.get("/v1/events/fb-1/triage").json() == event["triage"]


def test_override_wins_and_clears(client: TestClient) -> None:
    """A person's value is served with source=person, the inferred one kept beside it; null clears."""
    before = client.get("/v1/events/fb-1/triage").json()
    response = client.patch("/v1/events/fb-1/triage",
                            json={"category": "configuration_error", "priority": "P1", "team": "payroll-l2",
                                  "by": "ann"})
    assert response.status_code == 200, response.text
    after = client.get("/v1/events/fb-1").json()["triage"]
    assert after["category"] == {**after["category"], "value": "configuration_error", "source": "person", "by": "ann",
                                 "confidence": 1.0, "inferred_value": before["category"]["value"]}
    assert after["priority"]["value"] == "P1" and after["team"]["value"] == "payroll-l2"
    assert after["sentiment"] == before["sentiment"]  # untouched field stays inferred
    cleared = client.patch("/v1/events/fb-1/triage", json={"category": None}).json()
    assert cleared["category"]["source"] == "inferred" and cleared["category"]["value"] == before["category"]["value"]
    assert cleared["team"]["source"] == "person"


@pytest.mark.parametrize("body,field", [
    ({"category": "bug"}, "category"), ({"sentiment": "angry"}, "sentiment"), ({"priority": "P0"}, "priority"),
    ({"team": ""}, "team"), ({"colour": "red"}, "colour"), ({"by": "ann"}, None),
])
def test_bad_overrides_are_422_naming_the_field(client: TestClient, body: dict[str, Any], field: str | None) -> None:
    before = client.get("/v1/events/fb-1/triage").json()
    response = client.patch("/v1/events/fb-1/triage", json=body)
    assert response.status_code == 422
    locs = [e["loc"] for e in response.json()["detail"]]
    assert any(loc[:2] == ["body", field] for loc in locs) if field else locs == [["body"]]
    assert client.get("/v1/events/fb-1/triage").json() == before  # nothing half-stored


def test_override_of_unknown_or_untriaged_event(client: TestClient) -> None:
    assert client.patch("/v1/events/nope/triage", json={"team": "x"}).status_code == 404
    assert client.patch("/v1/events/al-1/triage", json={"team": "x"}).status_code == 409


def test_routing_learns_from_a_narrative_resolved_with_a_team(client: TestClient) -> None:
    """After the payslip narrative is resolved by payroll-l2, a similar new report is routed there."""
    narrative = client.get("/v1/events/fb-1/narrative").json()["id"]
    assert client.post(f"/v1/narratives/{narrative}/resolve", json={"team": "payroll-l2"}).status_code == 200
    assert client.post(f"/v1/narratives/{narrative}/resolve", json={"team": ""}).status_code == 422
    new = {"id": "fb-9", "title": "Payslip shows wrong overtime again", "text": "overtime hours counted twice",
           "user_id": "u-3", "systems": ["payroll"], "occurred_at": "2026-03-03T09:00:00Z"}
    team = client.post("/v1/events", json=new).json()["results"][0]["triage"]["team"]
    assert team["value"] == "payroll-l2" and any("payroll-l2" in r for r in team["detail"]["reasons"])
    unrelated = {"id": "fb-10", "title": "Cannot open holiday calendar", "text": "calendar widget blank",
                 "systems": ["payroll"], "occurred_at": "2026-03-03T09:00:00Z"}
    assert client.post("/v1/events", json=unrelated).json()["results"][0]["triage"]["team"]["value"] == "hr-systems"


def test_routing_learns_from_a_persons_team_override(client: TestClient) -> None:
    client.patch("/v1/events/fb-2/triage", json={"team": "fin-perf"})
    new = {"id": "fb-11", "title": "Invoice page slow", "text": "the invoice page takes minutes to load today",
           "systems": ["payments"], "occurred_at": "2026-03-03T09:00:00Z"}
    assert client.post("/v1/events", json=new).json()["results"][0]["triage"]["team"]["value"] == "fin-perf"


def test_routes_file_and_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The map comes from a JSON file and/or HYPERCORR_TRIAGE_ROUTES (the environment wins)."""
    routes = tmp_path / "routes.json"
    routes.write_text('{"payroll": "file-team", "payments": "file-fin"}', encoding="utf-8")
    monkeypatch.setenv("HYPERCORR_TRIAGE_ROUTES_FILE", str(routes))
    monkeypatch.setenv("HYPERCORR_TRIAGE_ROUTES", '{"payments": "env-fin"}')
    monkeypatch.setenv("HYPERCORR_BACKEND", "memory")
    with TestClient(make_app(Settings())) as c:
        results = {r["id"]: r["triage"] for r in c.post("/v1/events", json={"events": EVENTS}).json()["results"]}
    assert results["fb-1"]["team"]["value"] == "file-team" and results["fb-2"]["team"]["value"] == "env-fin"


def test_triage_and_overrides_survive_restart(tmp_path: Path) -> None:
    """Inferred values, overrides and learned team labels are read back from SQLite."""
    settings = Settings(data_dir=tmp_path / "data", triage_routes=ROUTES)
    with TestClient(make_app(settings)) as c:
        c.post("/v1/events", json={"events": EVENTS})
        c.patch("/v1/events/fb-1/triage", json={"sentiment": "positive", "by": "ann"})
        narrative = c.get("/v1/events/fb-2/narrative").json()["id"]
        c.post(f"/v1/narratives/{narrative}/resolve", json={"team": "fin-perf"})
        before = {i: c.get(f"/v1/events/{i}").json()["triage"] for i in ("fb-1", "fb-2", "al-1")}
    with TestClient(make_app(settings)) as c:
        assert {i: c.get(f"/v1/events/{i}").json()["triage"] for i in ("fb-1", "fb-2", "al-1")} == before
        assert before["fb-1"]["sentiment"]["source"] == "person"
        new = {"id": "fb-12", "title": "Invoice page slow", "text": "the invoice page takes minutes to load",
               "systems": ["payments"], "occurred_at": "2026-03-04T09:00:00Z"}
        assert c.post("/v1/events", json=new).json()["results"][0]["triage"]["team"]["value"] == "fin-perf"


def test_store_without_triage_rows_is_backfilled_at_start(tmp_path: Path) -> None:
    """Feedback stored before triage existed gets it at start-up, from the stored vectors."""
    settings = Settings(data_dir=tmp_path / "data", triage_routes=ROUTES)
    engine = Engine(settings, embedder=HashingEmbedder())
    engine.ingest([__import__("engine").EventIn(**e) for e in EVENTS])
    engine.store._conn.execute("DELETE FROM triage")  # as an older version left it
    embedder = HashingEmbedder()
    engine.close()
    reopened = Engine(settings, embedder=embedder)
    try:
        assert reopened.event_triage("fb-1") is not None and reopened.event_triage("al-1") is None
        assert reopened.event_triage("fb-1").fields["team"].value == "hr-systems"
        assert embedder.calls == 1  # the category prototypes only: no report was embedded again
    finally:
        reopened.close()
