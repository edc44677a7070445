"""Prometheus metrics per route template, store gauges, and JSON logs without personal data."""
from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.log_format import JsonFormatter
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

SECRET_TEXT = "Zanzibar-quokka overtime payslip mismatch"
USER = "user-7f3a9c"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


@pytest.fixture
def client() -> TestClient:
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()))
    with TestClient(app) as test_client:
        yield test_client


def test_metrics_count_ingest_queries_and_store_sizes(client: TestClient) -> None:
    events = [{"id": f"m-{i}", "title": "Payslip wrong", "text": SECRET_TEXT, "user_id": USER,
               "systems": ["hr"], "occurred_at": f"2026-03-0{i + 1}T09:00:00Z"} for i in range(3)]
    assert client.post("/v1/events", json={"events": events}).status_code == 201
    assert client.post("/v1/events", json=events[0]).status_code == 200
    for _ in range(2):
        assert client.get("/v1/events/m-0/related").status_code == 200
    assert client.get(f"/v1/users/{USER}/history").status_code == 200
    assert client.get("/v1/events/nope").status_code == 404
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    found = samples(response.text)
    assert found[("hypercorr_events_ingested_total", (("outcome", "created"),))] == 3
    assert found[("hypercorr_events_ingested_total", (("outcome", "unchanged"),))] == 1
    related = (("method", "GET"), ("route", "/v1/events/{event_id}/related"), ("status", "200"))
    assert found[("hypercorr_http_requests_total", related)] == 2
    assert found[("hypercorr_http_requests_total",
                  (("method", "GET"), ("route", "/v1/events/{event_id}"), ("status", "404")))] == 1
    assert found[("hypercorr_http_request_duration_seconds_count",
                  (("method", "GET"), ("route", "/v1/events/{event_id}/related")))] == 2
    assert found[("hypercorr_store_events", ())] == 3
    assert found[("hypercorr_store_vectors", ())] == 3
    assert found[("hypercorr_store_graph_nodes", ())] == 3 + 1 + 1  # events, the user, the system
    assert USER not in response.text and "m-0" not in response.text  # templates, never concrete paths


def test_unknown_paths_share_one_label(client: TestClient) -> None:
    client.get("/no/such/path-alice")
    text = client.get("/metrics").text
    assert 'route="unmatched"' in text and "path-alice" not in text


def test_info_logs_of_an_ingest_hold_no_text_or_ids(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    event = {"id": "private-77", "title": "Quokka payslip", "text": SECRET_TEXT, "user_id": USER,
             "systems": ["hr"]}
    with caplog.at_level(logging.DEBUG):
        assert client.post("/v1/events", json=event).status_code == 201
        assert client.get(f"/v1/users/{USER}/history").status_code == 200
    info = [r for r in caplog.records if r.levelno >= logging.INFO and not r.name.startswith("httpx")]  # server side
    assert any(r.name == "hypercorr.access" for r in info)
    rendered = "\n".join(JsonFormatter().format(r) for r in info)
    for private in (SECRET_TEXT, "Quokka", USER, "private-77"):
        assert private not in rendered, private
    lines = [json.loads(line) for line in rendered.splitlines() if line.startswith("{")]
    access = [line for line in lines if line["logger"] == "hypercorr.access"]
    assert {"route": "/v1/users/{user_id}/history", "status": 200}.items() <= access[-1].items()
