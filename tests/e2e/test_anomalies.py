"""GET /v1/anomalies against a real server with the real model, across a restart."""
from __future__ import annotations

import signal

import pytest

from tests.anomaly_stream import batch_stream
from tests.e2e.conftest import Server

pytestmark = pytest.mark.e2e
SPIKE = 12


@pytest.fixture(scope="module")
def server(launch, tmp_path_factory) -> Server:
    started = launch(tmp_path_factory.mktemp("anomalies") / "data")
    started.ingest(batch_stream(days=4, noon_spike_day=3, spike=SPIKE))
    return started


def _anomalies(server: Server, **params: str) -> list[dict]:
    response = server.client.get("/v1/anomalies", params=params)
    assert response.status_code == 200, response.text
    return response.json()["anomalies"]


def test_noon_burst_is_listed_and_the_fourth_batch_night_is_not(server: Server, launch) -> None:
    recent = _anomalies(server, since="2026-03-04T00:00:00+00:00")
    billing = [a for a in recent if (a["scope"], a["key"]) == ("system", "billing")]
    assert [a["bucket_start"][:16] for a in billing] == ["2026-03-05T12:00"]
    assert billing[0]["observed"] == SPIKE + 1 and billing[0]["expected"] < 2 and billing[0]["score"] >= 4
    assert any(a["scope"] == "narrative" and a["bucket_start"][:16] == "2026-03-05T12:00" for a in recent)
    assert server.client.get("/v1/anomalies", params={"since": "yesterday"}).status_code == 422

    everything = _anomalies(server, limit="500")
    server.stop(signal.SIGTERM)
    again = launch(server.data_dir)  # derived from stored events: the same answer after a restart
    assert _anomalies(again, limit="500") == everything
