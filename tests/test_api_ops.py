"""The operational endpoints over an in-memory engine: webhook, changes, topology, topology-aware links."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine import Engine, Settings
from tests.fakes import HashingEmbedder
from tests.test_alertmanager_payload import alert, notification

TOPOLOGY = {"systems": {"web": {"depends_on": ["api"]}, "api": ["db"], "db": {}}}
REPORT = {"id": "r1", "title": "Checkout page hangs", "text": "checkout page hangs when I pay the order",
          "user_id": "u1", "systems": ["web"], "occurred_at": "2026-03-02T10:00:00Z"}
# cosine 0.35 to REPORT with the hashing embedder: above the context floor (0.20), below joining by text
DB_ALERT = alert(labels={"alertname": "DbPool", "service": "db", "severity": "critical"},
                 annotations={"summary": "db pool exhausted", "description": "checkout order queries wait for connections"},
                 startsAt="2026-03-02T10:05:00.123456789Z", fingerprint="00aa11bb22cc33dd")


@pytest.fixture
def client() -> Iterator[TestClient]:
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()))
    with TestClient(app) as test_client:
        yield test_client


def events_count(client: TestClient) -> int:
    return client.get("/healthz").json()["events"]


def assert_rejected(client: TestClient, url: str, body: dict[str, Any], loc: list[object]) -> None:
    """422 naming the field at `loc`, and nothing stored."""
    response = client.post(url, json=body)
    assert response.status_code == 422
    assert loc in [e["loc"] for e in response.json()["detail"]]
    assert events_count(client) == 0


def post_alerts(client: TestClient, *alerts: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/webhooks/alertmanager", json=notification(*alerts))
    assert response.status_code == 200, response.text
    return response.json()


# ---- Alertmanager webhook ---------------------------------------------------------------
def test_resent_alert_is_idempotent_and_resolve_updates_in_place(client: TestClient) -> None:
    first = post_alerts(client, DB_ALERT)
    assert (first["created"], first["updated"], first["unchanged"]) == (1, 0, 0)
    event_id = first["results"][0]["id"]
    assert first["results"][0]["narrative_id"]
    assert post_alerts(client, DB_ALERT)["unchanged"] == 1
    resolved = dict(DB_ALERT, status="resolved", endsAt="2026-03-02T10:40:00.987654321Z")
    answer = post_alerts(client, resolved)
    assert (answer["updated"], answer["results"][0]["alert_status"]) == (1, "resolved")
    assert answer["results"][0]["narrative_id"] == first["results"][0]["narrative_id"]
    stored = client.get(f"/v1/events/{event_id}").json()
    assert stored["attributes"]["status"] == "resolved"
    assert stored["attributes"]["ends_at"] == "2026-03-02T10:40:00.987654+00:00"
    assert stored["title"] == "db pool exhausted" and stored["occurred_at"] == "2026-03-02T10:05:00.123456Z"
    assert post_alerts(client, resolved)["unchanged"] == 1
    late = post_alerts(client, DB_ALERT)  # an out-of-order firing for the same episode
    assert late["unchanged"] == 1 and late["results"][0]["alert_status"] == "resolved"
    assert events_count(client) == 1
    again = client.post("/v1/events", json={k: v for k, v in stored.items() if k not in ("ingested_at", "triage")})
    assert again.status_code == 200  # the stored content hash follows the update


def test_mixed_notification_creates_and_updates(client: TestClient) -> None:
    post_alerts(client, DB_ALERT)
    other = alert(fingerprint="ffff000011112222")
    resolved = dict(DB_ALERT, status="resolved", endsAt="2026-03-02T11:00:00Z")
    answer = post_alerts(client, resolved, other)
    assert [r["status"] for r in answer["results"]] == ["updated", "created"]
    assert events_count(client) == 2


def test_alert_id_held_by_another_event_is_409_and_nothing_is_stored(client: TestClient) -> None:
    event_id = post_alerts(client, DB_ALERT)["results"][0]["id"]
    foreign = dict(REPORT, id="am-ffff000011112222-20261127T005503.619906Z")
    assert client.post("/v1/events", json=foreign).status_code == 201
    other = alert(fingerprint="ffff000011112222")
    resolved = dict(DB_ALERT, status="resolved", endsAt="2026-03-02T11:00:00Z")
    response = client.post("/v1/webhooks/alertmanager", json=notification(resolved, other))
    assert response.status_code == 409 and response.json()["detail"]["ids"] == [foreign["id"]]
    assert client.get(f"/v1/events/{event_id}").json()["attributes"]["status"] == "firing"  # not half-applied
    assert events_count(client) == 2


@pytest.mark.parametrize(("body", "loc"), [
    (notification(DB_ALERT, version="2"), ["body", "version"]),
    (notification(dict(DB_ALERT, startsAt="2026-03-02T10:05:00")), ["body", "alerts", 0, "startsAt"]),
    ({"alerts": []}, ["body", "version"]),
])
def test_bad_notification_is_422_naming_the_field(client: TestClient, body: dict[str, Any], loc: list[object]) -> None:
    assert_rejected(client, "/v1/webhooks/alertmanager", body, loc)


def test_notification_above_the_batch_limit_is_413() -> None:
    app = create_app(Settings(backend="memory", max_batch_events=2), lambda s: Engine(s, embedder=HashingEmbedder()))
    alerts = [alert(fingerprint=f"{i:016x}") for i in range(3)]
    with TestClient(app) as small:
        response = small.post("/v1/webhooks/alertmanager", json=notification(*alerts))
        assert response.status_code == 413 and events_count(small) == 0


# ---- changes ----------------------------------------------------------------------------
def test_post_change_is_a_change_event_and_idempotent(client: TestClient) -> None:
    body = {"systems": ["api"], "version": "2.3", "change_type": "deployment", "author": "ci",
            "description": "new payment client", "occurred_at": "2026-03-02T08:00:00+01:00"}
    first = client.post("/v1/changes", json=body)
    assert first.status_code == 201, first.text
    change_id = first.json()["results"][0]["id"]
    assert change_id.startswith("chg-")
    assert client.post("/v1/changes", json=body).status_code == 200
    stored = client.get(f"/v1/events/{change_id}").json()
    assert stored["kind"] == "change" and stored["title"] == "Deployment: api 2.3" and stored["channel"] == "deploy"
    assert stored["attributes"] == {"change_type": "deployment", "version": "2.3", "author": "ci"}
    assert stored["occurred_at"] == "2026-03-02T07:00:00Z"
    flag = client.post("/v1/changes", json={"id": "flag-1", "change_type": "feature_flag", "systems": ["web"],
                                            "flag": "new-checkout=on", "occurred_at": "2026-03-02T09:00:00Z"})
    assert flag.status_code == 201
    assert client.get("/v1/events/flag-1").json()["title"] == "Feature flag: web new-checkout=on"


@pytest.mark.parametrize(("body", "loc"), [
    ({"systems": [], "version": "1"}, ["body", "systems"]),
    ({"systems": ["api"], "occurred_at": "2026-03-02T08:00:00"}, ["body", "occurred_at"]),
    ({"systems": ["api"], "change_type": "reboot"}, ["body", "change_type"]),
    ({"systems": ["  "]}, ["body", "systems"]),
    ({"systems": ["api"], "colour": "red"}, ["body", "colour"]),
])
def test_bad_change_is_422(client: TestClient, body: dict[str, Any], loc: list[object]) -> None:
    assert_rejected(client, "/v1/changes", body, loc)


# ---- topology ---------------------------------------------------------------------------
def test_topology_put_json_or_yaml_and_get(client: TestClient) -> None:
    assert client.get("/v1/topology").json() == {"systems": {}, "edges": 0, "updated_at": None}
    response = client.put("/v1/topology", json=TOPOLOGY)
    assert response.status_code == 200
    expected = {"web": {"depends_on": ["api"]}, "api": {"depends_on": ["db"]}, "db": {"depends_on": []}}
    assert response.json()["systems"] == expected and response.json()["edges"] == 2
    yaml_body = "systems:\n  web:\n    depends_on: [api, cdn]\n  api: [db]\n"
    response = client.put("/v1/topology", content=yaml_body, headers={"Content-Type": "application/yaml"})
    assert response.status_code == 200
    got = client.get("/v1/topology").json()
    assert got["systems"] == {"web": {"depends_on": ["api", "cdn"]}, "api": {"depends_on": ["db"]}}
    assert got["updated_at"] is not None


@pytest.mark.parametrize(("content", "kind", "loc"), [
    ('{"systems": {"web": ["web"]}}', "application/json", ["body"]),
    ('{"systems": {"web": {"needs": ["api"]}}}', "application/json", ["body", "systems", "web"]),
    ('{"systems": {"web": ["api"]', "application/json", ["body"]),
    ("systems: [unclosed", "application/yaml", ["body"]),
    ('{"web": ["api"]}', "application/json", ["body", "systems"]),
])
def test_bad_topology_is_422_and_keeps_the_old_one(client: TestClient, content: str, kind: str,
                                                   loc: list[object]) -> None:
    client.put("/v1/topology", json=TOPOLOGY)
    response = client.put("/v1/topology", content=content, headers={"Content-Type": kind})
    assert response.status_code == 422
    assert any(e["loc"][: len(loc)] == loc for e in response.json()["detail"])
    assert client.get("/v1/topology").json()["edges"] == 2


# ---- topology in relevance and linking --------------------------------------------------
def test_related_shows_the_dependency_path_and_topology_only_lifts_text(client: TestClient) -> None:
    client.post("/v1/events", json=REPORT)
    post_alerts(client, DB_ALERT)
    far = dict(DB_ALERT, fingerprint="1234123412341234", startsAt="2026-03-03T10:05:00Z")  # a day later
    post_alerts(client, far)
    before = {h["event"]["id"]: h for h in client.get("/v1/events/r1/related").json()}
    client.put("/v1/topology", json=TOPOLOGY)
    after = {h["event"]["id"]: h for h in client.get("/v1/events/r1/related").json()}
    near_id = next(i for i in after if i.startswith("am-00aa"))
    far_id = next(i for i in after if i.startswith("am-1234"))
    assert before[near_id]["evidence"]["topology_path"] is None
    evidence = after[near_id]["evidence"]
    assert evidence["topology_path"] == "web -> api -> db" and evidence["context_boost"] == pytest.approx(0.05)
    assert after[near_id]["score"] > before[near_id]["score"]
    expected = evidence["text_score"] * (1 + evidence["context_boost"]) + evidence["time_proximity"]
    assert after[near_id]["score"] == pytest.approx(expected, abs=1e-3)  # multiplies text: never alone
    assert after[far_id]["evidence"]["topology_path"] is None  # outside the 12-hour window


def narrative_of(client: TestClient, event_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/events/{event_id}/narrative")
    assert response.status_code == 200, response.text
    return response.json()


def test_report_and_upstream_alert_link_through_topology(client: TestClient) -> None:
    client.put("/v1/topology", json=TOPOLOGY)
    client.post("/v1/events", json=REPORT)
    alert_id = post_alerts(client, DB_ALERT)["results"][0]["id"]
    unrelated = alert(labels={"alertname": "Disk", "service": "db"}, annotations={"summary": "disk volume nearly full"},
                      startsAt="2026-03-02T10:06:00Z", fingerprint="9999888877776666")
    unrelated_id = post_alerts(client, unrelated)["results"][0]["id"]
    narrative = narrative_of(client, "r1")
    ids = [m["event"]["id"] for m in narrative["members"]]
    assert alert_id in ids and unrelated_id not in ids  # context never links on context alone
    link = next(l for m in narrative["members"] for l in m["links"] if l["from_event"] == alert_id)
    assert link["evidence"]["context_link"] is True
    assert link["evidence"]["topology_path"] == "db <- api <- web"
    assert narrative["probable_origin"]["system"] == "db"


def test_without_topology_the_same_alert_stays_apart(client: TestClient) -> None:
    client.post("/v1/events", json=REPORT)
    alert_id = post_alerts(client, DB_ALERT)["results"][0]["id"]
    assert alert_id not in [m["event"]["id"] for m in narrative_of(client, "r1")["members"]]


def test_narrative_lists_suspect_changes(client: TestClient) -> None:
    client.put("/v1/topology", json=TOPOLOGY)
    client.post("/v1/changes", json={"id": "deploy-api", "systems": ["api"], "version": "2.3",
                                     "occurred_at": "2026-03-02T08:00:00Z"})
    client.post("/v1/changes", json={"id": "deploy-hr", "systems": ["hr"], "occurred_at": "2026-03-02T08:00:00Z"})
    client.post("/v1/events", json=REPORT)
    narrative = narrative_of(client, "r1")
    suspects = narrative["suspect_changes"]
    assert [s["event"]["id"] for s in suspects] == ["deploy-api"]
    assert suspects[0]["relation"] == "upstream" and suspects[0]["path"] == "web -> api"
    assert suspects[0]["hours_before"] == 2.0 and suspects[0]["reasons"][0] == "upstream of web via web -> api (1 hop)"
    origin = narrative["probable_origin"]
    assert (origin["system"], origin["basis"]) == ("web", "only_system")
