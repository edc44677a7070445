"""Request limits: body size (413 before reading), per-key rate limit (429 + Retry-After), batch size."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.rate_limit import RateLimiter
from context_store.api_keys import KeyTable
from engine import Engine, Settings
from tests.fakes import HashingEmbedder


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(rate=2.0, burst=3, clock=clock)
    assert [limiter.take("k") for _ in range(3)] == [0, 0, 0]
    assert limiter.take("k") == 1  # empty: one token takes 0.5 s, announced as 1 whole second
    assert limiter.take("other") == 0  # buckets are per key
    clock.now += 0.5
    assert limiter.take("k") == 0
    assert limiter.take("k") == 1
    clock.now += 10  # refills up to the burst, not beyond
    assert [limiter.take("k") for _ in range(4)] == [0, 0, 0, 1]


def test_slow_rate_announces_a_longer_wait() -> None:
    limiter = RateLimiter(rate=0.1, burst=1, clock=Clock())
    assert limiter.take("k") == 0
    assert limiter.take("k") == 10


def test_zero_rate_disables_limiting() -> None:
    limiter = RateLimiter(rate=0, burst=1, clock=Clock())
    assert all(limiter.take("k") == 0 for _ in range(1000))


def app_with(**settings: object) -> tuple[TestClient, KeyTable]:
    keys = KeyTable.open(None)
    app = create_app(Settings(backend="memory", **settings), lambda s: Engine(s, embedder=HashingEmbedder()),
                     keys=keys)
    return TestClient(app), keys


@pytest.fixture
def small() -> Iterator[tuple[TestClient, KeyTable]]:
    client, keys = app_with(max_body_bytes=2048, rate_limit_per_second=1, rate_limit_burst=3)
    with client:
        yield client, keys


def event(n: int, text: str = "printer out of toner") -> dict[str, str]:
    return {"id": f"e-{n}", "text": text}


def test_oversized_body_is_413_and_nothing_is_stored(small: tuple[TestClient, KeyTable]) -> None:
    client, _ = small
    payload = {"events": [event(i, "x" * 100) for i in range(30)]}
    response = client.post("/v1/events", json=payload)
    assert response.status_code == 413
    assert "larger than 2048 bytes" in response.json()["detail"]
    assert client.get("/healthz").json()["events"] == 0
    assert client.post("/v1/events", json=event(1)).status_code == 201


def test_chunked_body_over_the_limit_is_413(small: tuple[TestClient, KeyTable]) -> None:
    client, _ = small
    body = json.dumps({"events": [event(i, "y" * 100) for i in range(30)]}).encode()

    def chunks() -> Iterator[bytes]:  # no Content-Length: the middleware counts as it reads
        for start in range(0, len(body), 512):
            yield body[start:start + 512]

    response = client.post("/v1/events", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    small_body = json.dumps(event(2)).encode()
    response = client.post("/v1/events", content=iter([small_body]), headers={"content-type": "application/json"})
    assert response.status_code == 201


def test_rate_limit_is_per_key_with_retry_after(small: tuple[TestClient, KeyTable]) -> None:
    client, keys = small
    _, first = keys.create("first", ("read",))
    _, second = keys.create("second", ("read",))
    statuses = [client.get("/v1/narratives", headers={"Authorization": f"Bearer {first}"}) for _ in range(5)]
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    refused = [r for r in statuses[3:] if r.status_code == 429]
    assert refused, [r.status_code for r in statuses]
    assert int(refused[0].headers["retry-after"]) >= 1
    assert client.get("/v1/narratives", headers={"Authorization": f"Bearer {second}"}).status_code == 200


def test_batch_size_limit_is_413() -> None:
    client, _ = app_with(max_batch_events=3)
    with client:
        response = client.post("/v1/events", json={"events": [event(i) for i in range(4)]})
        assert response.status_code == 413 and "at most 3 events" in response.json()["detail"]


def test_text_length_limit_is_422_naming_the_field() -> None:
    client, _ = app_with()
    with client:
        response = client.post("/v1/events", json={"id": "long", "text": "z" * 20_001})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "text"]


@pytest.mark.parametrize("path", ["/v1/users/u/history", "/v1/systems/s/history", "/v1/narratives"])
def test_huge_offsets_are_422_not_500(path: str) -> None:
    """Found by schema fuzzing: an offset past SQLite's 64-bit integers was a 500."""
    client, _ = app_with()
    with client:
        response = client.get(path, params={"offset": str(2**65)})
        assert response.status_code == 422 and response.json()["detail"][0]["loc"] == ["query", "offset"]
        assert client.get(path, params={"offset": "1000000000"}).status_code == 200


def test_narrative_members_are_paginated() -> None:
    client, _ = app_with()
    with client:
        events = [{"id": f"same-{i}", "title": "Printer out of toner", "text": "printer toner empty again",
                   "occurred_at": f"2026-03-0{i + 1}T09:00:00Z"} for i in range(5)]
        results = client.post("/v1/events", json={"events": events}).json()["results"]
        narrative = results[0]["narrative_id"]
        assert {r["narrative_id"] for r in results} == {narrative}
        full = client.get(f"/v1/narratives/{narrative}").json()
        page = client.get(f"/v1/narratives/{narrative}", params={"members_limit": 2, "members_offset": 1}).json()
        assert full["size"] == page["size"] == 5
        assert [m["event"]["id"] for m in page["members"]] == [m["event"]["id"] for m in full["members"]][1:3]
        via_event = client.get("/v1/events/same-0/narrative", params={"members_limit": 1}).json()
        assert len(via_event["members"]) == 1
        assert client.get(f"/v1/narratives/{narrative}", params={"members_limit": 1001}).status_code == 422
