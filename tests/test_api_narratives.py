"""The narrative endpoints over an in-memory engine with the hashing embedder."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

EVENTS = [
    {"id": "p1", "text": "invoice payment failed at checkout", "user_id": "u1", "systems": ["payments"],
     "occurred_at": "2026-03-02T09:00:00Z"},
    {"id": "p2", "text": "invoice payment failed again at checkout", "user_id": "u2", "systems": ["payments"],
     "occurred_at": "2026-03-03T09:00:00Z"},
    {"id": "p3", "text": "checkout invoice payment failed for supplier", "user_id": "u3", "systems": ["payments"],
     "occurred_at": "2026-03-04T09:00:00Z"},
    {"id": "s1", "text": "sso login redirect loop", "user_id": "u4", "systems": ["auth"],
     "occurred_at": "2026-03-02T08:00:00Z"},
    {"id": "s2", "text": "login redirect loop on sso page", "user_id": "u5", "systems": ["auth"],
     "occurred_at": "2026-03-02T08:30:00Z"},
]


@pytest.fixture
def client() -> Iterator[TestClient]:
    """An app holding EVENTS."""
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()))
    with TestClient(app) as test_client:
        assert test_client.post("/v1/events", json={"events": EVENTS}).status_code == 201
        yield test_client


def narrative_of(client: TestClient, event_id: str) -> str:
    """The id of the narrative holding an event."""
    response = client.get(f"/v1/events/{event_id}/narrative")
    assert response.status_code == 200, response.text
    return response.json()["id"]


def test_list_detail_and_timeline(client: TestClient) -> None:
    """Related reports share a narrative; detail carries members, links, timeline and status."""
    payments, auth = narrative_of(client, "p1"), narrative_of(client, "s1")
    assert payments == narrative_of(client, "p3") and auth == narrative_of(client, "s2") and payments != auth
    page = client.get("/v1/narratives", params={"sort": "size"}).json()
    assert [n["id"] for n in page["narratives"]][:2] == [payments, auth]
    assert client.get("/v1/narratives", params={"system": "auth"}).json()["narratives"][0]["id"] == auth
    assert client.get("/v1/narratives", params={"min_size": 3}).json()["narratives"][0]["id"] == payments
    detail = client.get(f"/v1/narratives/{payments}").json()
    assert {m["event"]["id"] for m in detail["members"]} == {"p1", "p2", "p3"}
    assert detail["users"] == ["u1", "u2", "u3"] and detail["systems"] == ["payments"]
    assert any(link["evidence"].get("semantic") is not None for m in detail["members"] for link in m["links"])
    timeline = client.get(f"/v1/narratives/{payments}/timeline").json()
    assert timeline["id"] == payments and "Mon 02 Mar" in timeline["timeline"]
    assert client.get("/v1/narratives/N-999999").status_code == 404


def test_merge_keeps_the_older_id_and_the_absorbed_id_answers(client: TestClient) -> None:
    """After a merge the older id survives; fetching the absorbed id answers with the survivor."""
    payments, auth = narrative_of(client, "p1"), narrative_of(client, "s1")
    merged = client.post(f"/v1/narratives/{auth}/merge", json={"into": payments})
    assert merged.status_code == 200
    survivor = merged.json()["narrative_id"]
    assert survivor == min(payments, auth)
    absorbed = max(payments, auth)
    assert client.get(f"/v1/narratives/{absorbed}").json()["id"] == survivor
    assert narrative_of(client, "s2") == survivor and narrative_of(client, "p2") == survivor
    assert client.post(f"/v1/narratives/{survivor}/merge", json={"into": absorbed}).status_code == 409


def test_split_move_feedback_and_resolve(client: TestClient) -> None:
    """A person's edits are applied and survive a consolidation."""
    payments = narrative_of(client, "p1")
    child = client.post(f"/v1/narratives/{payments}/split", json={"event_ids": ["p3"]}).json()["narrative_id"]
    assert child != payments and narrative_of(client, "p3") == child
    detail = client.get(f"/v1/narratives/{child}").json()
    assert detail["parent_id"] == payments and detail["lineage"][0]["relation"] == "split_from"
    auth = narrative_of(client, "s1")
    assert client.post("/v1/events/p2/move", json={"narrative_id": auth}).json()["narrative_id"] == auth
    assert client.post("/v1/narratives/consolidate").status_code == 200
    assert narrative_of(client, "p2") == auth and narrative_of(client, "p3") == child
    rejected = client.post("/v1/links/feedback", json={"a": "s1", "b": "s2", "verdict": "reject"}).json()
    assert rejected["narratives"]["s1"] != rejected["narratives"]["s2"]
    resolved = client.post(f"/v1/narratives/{child}/resolve").json()["narrative_id"]
    assert client.get(f"/v1/narratives/{resolved}").json()["status"] == "resolved"


def test_bad_edits_are_refused(client: TestClient) -> None:
    """Unknown ids are 404, wrong shapes 422 naming the field, impossible edits 409."""
    payments = narrative_of(client, "p1")
    bad_verdict = client.post("/v1/links/feedback", json={"a": "p1", "b": "p2", "verdict": "maybe"})
    assert bad_verdict.status_code == 422 and bad_verdict.json()["detail"][0]["loc"] == ["body", "verdict"]
    assert client.post("/v1/links/feedback", json={"a": "p1", "b": "nope", "verdict": "confirm"}).status_code == 404
    assert client.post("/v1/links/feedback", json={"a": "p1", "b": "p1", "verdict": "confirm"}).status_code == 409
    assert client.post(f"/v1/narratives/{payments}/split", json={"event_ids": ["s1"]}).status_code == 409
    assert client.post("/v1/events/p1/move", json={"narrative_id": "N-999999"}).status_code == 404
    assert client.get("/v1/events/nope/narrative").status_code == 404
