"""GET /v1/anomalies and the narrative growth flag over an in-memory engine with the hashing embedder."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine import Engine, Settings
from tests.anomaly_stream import BATCH_TEXT, SPIKE, START, batch_stream
from tests.fakes import HashingEmbedder

NOON = START + timedelta(days=4, hours=12)


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """An app holding five days of the batch-job stream with a noon burst on the last day."""
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder(64)))
    rows = batch_stream(days=5, noon_spike_day=4)
    with TestClient(app) as test_client:
        for start in range(0, len(rows), 500):
            assert test_client.post("/v1/events", json={"events": rows[start:start + 500]}).status_code == 201
        yield test_client


def test_lists_the_noon_burst_with_expected_observed_score_and_why(client: TestClient) -> None:
    response = client.get("/v1/anomalies", params={"since": (NOON - timedelta(hours=1)).isoformat()})
    assert response.status_code == 200, response.text
    page = response.json()
    billing = [a for a in page["anomalies"] if a["scope"] == "system" and a["key"] == "billing"]
    assert len(billing) == 1
    noon = billing[0]
    assert noon["bucket_start"].startswith("2026-03-06T12:00:00") and noon["bucket_end"].startswith("2026-03-06T13:00")
    assert noon["observed"] == SPIKE + 1 and noon["expected"] < 3 and noon["score"] >= 4
    assert "where" in noon["why"] and "expected" in noon["why"]
    assert (page["limit"], page["offset"]) == (50, 0)


def test_since_scope_and_pagination(client: TestClient) -> None:
    everything = client.get("/v1/anomalies", params={"limit": 500}).json()["anomalies"]
    assert any(a["bucket_start"].startswith("2026-03-02T02:00") for a in everything)  # night one: no history yet
    recent = client.get("/v1/anomalies", params={"since": "2026-03-05T00:00:00Z"}).json()["anomalies"]
    assert recent and len(recent) < len(everything)
    second = client.get("/v1/anomalies", params={"limit": 1, "offset": 1}).json()["anomalies"]
    assert second == everything[1:2]
    narratives = client.get("/v1/anomalies", params={"scope": "narrative", "limit": 500}).json()["anomalies"]
    assert narratives and all(a["scope"] == "narrative" for a in narratives)


def test_bad_query_is_422_naming_the_field(client: TestClient) -> None:
    for params, field in (({"since": "2026-03-05T00:00:00"}, "since"), ({"limit": 0}, "limit"),
                          ({"scope": "user"}, "scope")):
        response = client.get("/v1/anomalies", params=params)
        assert response.status_code == 422, params
        assert field in str(response.json()["detail"])


def test_narrative_with_the_noon_burst_is_flagged_on_list_and_detail(client: TestClient) -> None:
    narratives = client.get("/v1/narratives", params={"limit": 500}).json()["narratives"]
    flagged = [n for n in narratives if n["growth_anomaly"]]
    assert flagged, narratives
    batch_id = client.get("/v1/events/e" + str(_batch_event_index()) + "/narrative").json()["id"]
    assert batch_id in {n["id"] for n in flagged}
    flag = next(n for n in flagged if n["id"] == batch_id)["growth_anomaly"]
    assert flag["scope"] == "narrative" and flag["key"] == batch_id and flag["observed"] >= SPIKE
    assert client.get(f"/v1/narratives/{batch_id}").json()["growth_anomaly"] == flag
    crm = client.get("/v1/events/e1/narrative").json()  # steady "contact sync warning" reports
    assert crm["growth_anomaly"] is None


def _batch_event_index() -> int:
    return next(i for i, r in enumerate(batch_stream(days=5, noon_spike_day=4)) if r["text"] == BATCH_TEXT)
