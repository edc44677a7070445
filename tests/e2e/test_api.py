"""Ingest, get, related, search, histories and bad inputs against one real server."""
from __future__ import annotations

import copy
from datetime import datetime, timezone
from typing import Any

import pytest

from tests.e2e.conftest import Server, corpus, ids_of

pytestmark = pytest.mark.e2e

# the evidence every hit must carry (more signals may be added over time)
EVIDENCE_KEYS = {"semantic", "lexical", "shared_terms", "same_user", "shared_systems", "time_gap_hours",
                 "text_score", "context_boost"}


@pytest.fixture(scope="module")
def server(launch, tmp_path_factory) -> Server:
    return launch(tmp_path_factory.mktemp("api") / "data")


@pytest.fixture(scope="module")
def seeded(server: Server) -> dict[str, dict[str, Any]]:
    """The corpus: its first event posted alone, the rest as one batch."""
    events = corpus()
    first = server.post_events(events[0])
    assert first.status_code == 201, first.text
    assert _plain(first.json()) == {"created": 1, "unchanged": 0, "results": [{"id": "pay-1", "status": "created"}]}
    rest = server.post_events({"events": events[1:]})
    assert rest.status_code == 201, rest.text
    assert rest.json()["created"] == len(events) - 1
    return {e["id"]: e for e in events}


def _hit(hits: list[dict[str, Any]], event_id: str) -> dict[str, Any]:
    return next(h for h in hits if h["event"]["id"] == event_id)


def _plain(body: dict[str, Any]) -> dict[str, Any]:
    """An ingest answer without its narrative ids and triage (tests/e2e/test_triage.py checks those),
    after checking every event got a narrative."""
    assert all(str(r.get("narrative_id", "")).startswith("N-") for r in body["results"]), body
    return {**body, "results": [{k: v for k, v in r.items() if k not in ("narrative_id", "triage")}
                                for r in body["results"]]}


def _rank(hits: list[dict[str, Any]], event_id: str) -> int:
    """Position of an event in the hits; absent counts as after every hit."""
    ids = ids_of(hits)
    return ids.index(event_id) if event_id in ids else len(ids)


# ---- ingest and get -----------------------------------------------------------------
def test_ingest_single_then_repost_is_unchanged(server: Server) -> None:
    event = {"id": "single-1", "text": "The mobile app crashes when I open the settings screen.",
             "user_id": "frank", "occurred_at": "2026-11-20T12:00:00Z"}
    created = server.post_events(event)
    assert created.status_code == 201, created.text
    assert _plain(created.json()) == {"created": 1, "unchanged": 0, "results": [{"id": "single-1", "status": "created"}]}
    before = server.health()["events"]
    again = server.post_events(event)
    assert again.status_code == 200, again.text
    assert _plain(again.json()) == {"created": 0, "unchanged": 1, "results": [{"id": "single-1", "status": "unchanged"}]}
    assert server.health()["events"] == before


def test_ingest_batch_reports_each_item_in_order(server: Server) -> None:
    batch = [{"id": f"batch-{i}", "text": f"Report number {i} about the reporting dashboard being slow.",
              "occurred_at": "2026-11-21T12:00:00Z"} for i in range(3)]
    response = server.post_events({"events": batch})
    assert response.status_code == 201, response.text
    assert _plain(response.json()) == {"created": 3, "unchanged": 0,
                               "results": [{"id": f"batch-{i}", "status": "created"} for i in range(3)]}
    mixed = server.post_events({"events": [batch[1], {"id": "batch-3", "text": "Dashboard export times out."}]})
    assert mixed.status_code == 201, mixed.text
    assert _plain(mixed.json()) == {"created": 1, "unchanged": 1, "results": [
        {"id": "batch-1", "status": "unchanged"}, {"id": "batch-3", "status": "created"}]}
    for i in range(4):
        assert server.get(f"batch-{i}").status_code == 200


def test_get_returns_the_stored_event(server: Server, seeded) -> None:
    response = server.get("pay-1")
    assert response.status_code == 200, response.text
    body = response.json()
    sent = seeded["pay-1"]
    for key in ("id", "title", "text", "user_id", "systems", "channel", "impact", "urgency", "attributes"):
        assert body[key] == sent[key], key
    assert body["kind"] == "feedback"
    occurred = datetime.fromisoformat(body["occurred_at"].replace("Z", "+00:00"))
    assert occurred == datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)  # 10:00+01:00, stored in UTC
    assert occurred.utcoffset().total_seconds() == 0
    assert datetime.fromisoformat(body["ingested_at"].replace("Z", "+00:00")).tzinfo is not None
    alert = server.get("alert-1").json()
    assert alert["kind"] == "alert" and alert["user_id"] is None


def test_get_unknown_event_is_404(server: Server) -> None:
    response = server.get("no-such-event")
    assert response.status_code == 404
    assert "no-such-event" in response.json()["detail"]


def test_health_counts_agree(server: Server, seeded) -> None:
    health = server.health()
    assert health["status"] == "ok"
    assert health["events"] == health["vectors"] >= len(seeded)
    assert health["model"] == "sentence-transformers/all-MiniLM-L6-v2"


# ---- related ------------------------------------------------------------------------
def test_related_ranks_the_similar_report_above_the_unrelated_one(server: Server, seeded) -> None:
    hits = server.related("pay-1", k=20)
    ids = ids_of(hits)
    assert "pay-1" not in ids  # never related to itself
    assert ids[0] in {"pay-2", "alert-1"}, ids
    assert "pay-2" in ids[:3], ids
    assert _rank(hits, "pay-2") < _rank(hits, "printer-1"), ids
    assert _rank(hits, "pay-2") < _rank(hits, "vpn-1"), ids
    scores = [h["score"] for h in hits]
    assert scores == sorted(scores, reverse=True)
    pay2 = _hit(hits, "pay-2")
    assert EVIDENCE_KEYS <= set(pay2["evidence"])
    ev = pay2["evidence"]
    assert 0.3 < ev["semantic"] <= 1.0  # the real model sees two failed payments as similar
    if "printer-1" in ids:
        assert ev["semantic"] > _hit(hits, "printer-1")["evidence"]["semantic"] + 0.2
    assert 0.0 < ev["lexical"] <= 1.0
    assert "payment" in ev["shared_terms"]
    assert ev["same_user"] is False
    assert ev["shared_systems"] == ["checkout"]
    assert ev["time_gap_hours"] == pytest.approx(1.5)  # 10:30Z vs 09:00Z
    assert pay2["event"]["text"] == seeded["pay-2"]["text"]


def test_related_evidence_shows_same_user_and_earlier_events(server: Server, seeded) -> None:
    hits = server.related("pay-1", k=20)
    invoice = _hit(hits, "invoice-1")["evidence"]
    assert invoice["same_user"] is True
    assert invoice["shared_systems"] == ["billing"]
    assert invoice["time_gap_hours"] == pytest.approx(-18.0)  # 26th 15:00Z vs 27th 09:00Z
    assert invoice["context_boost"] > 0
    unrelated = _hit(hits, "vpn-1")["evidence"] if "vpn-1" in ids_of(hits) else None
    if unrelated is not None:
        assert unrelated["same_user"] is False and unrelated["shared_systems"] == []


def test_related_printer_finds_the_other_printer(server: Server, seeded) -> None:
    hits = server.related("printer-1", k=5)
    assert ids_of(hits)[0] == "printer-2"
    assert "toner" in hits[0]["evidence"]["shared_terms"]


def test_related_honours_k_and_filters(server: Server, seeded) -> None:
    assert len(server.related("pay-1", k=1)) == 1
    alerts = server.related("pay-1", kinds="alert")
    assert ids_of(alerts) == ["alert-1"]
    earlier = server.related("pay-1", earlier_only="true", k=50)
    assert earlier and all(h["evidence"]["time_gap_hours"] <= 0 for h in earlier)
    assert "pay-2" not in ids_of(earlier)
    checkout = server.related("pay-1", systems="checkout", k=50)
    assert checkout and all("checkout" in h["event"]["systems"] for h in checkout)
    assert ids_of(server.related("pay-1", user_id="alice", k=50)) == ["invoice-1"]


def test_related_bad_requests(server: Server, seeded) -> None:
    assert server.client.get("/v1/events/no-such-event/related").status_code == 404
    response = server.client.get("/v1/events/pay-1/related", params={"k": 0})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "k"]
    naive = server.client.get("/v1/events/pay-1/related", params={"since": "2026-11-27T00:00:00"})
    assert naive.status_code == 422
    assert naive.json()["detail"][0]["loc"][:2] == ["query", "since"]


# ---- search -------------------------------------------------------------------------
def test_search_free_text(server: Server, seeded) -> None:
    hits = server.search("card payment declined during checkout", k=5)
    ids = ids_of(hits)
    assert ids[0] in {"pay-1", "pay-2", "alert-1"}, ids
    assert _rank(hits, "pay-2") < _rank(hits, "printer-1"), ids
    for hit in hits:
        assert EVIDENCE_KEYS <= set(hit["evidence"])
        assert hit["evidence"]["time_gap_hours"] is None  # a free text has no time
        assert hit["evidence"]["same_user"] is False
    toner = server.search("no toner left in the printer", k=3)
    assert ids_of(toner)[0] in {"printer-1", "printer-2"}
    assert set(ids_of(toner)[:2]) == {"printer-1", "printer-2"}


def test_search_in_a_user_and_system_context(server: Server, seeded) -> None:
    hits = server.search("payment problem", k=10, user_id="alice", systems=["billing"])
    pay1 = _hit(hits, "pay-1")["evidence"]
    assert pay1["same_user"] is True
    assert pay1["shared_systems"] == ["billing"]
    assert pay1["context_boost"] > 0
    only_alerts = server.search("payment problem", k=10, filters={"kinds": ["alert"]})
    assert ids_of(only_alerts) == ["alert-1"]


@pytest.mark.parametrize("body, loc", [
    ({"text": ""}, ["body", "text"]),
    ({"text": "x" * 20_001}, ["body", "text"]),
    ({"text": "payment", "k": 0}, ["body", "k"]),
    ({"text": "payment", "colour": "red"}, ["body", "colour"]),
    ({"text": "payment", "filters": {"since": "2026-11-27T00:00:00"}}, ["body", "filters", "since"]),
])
def test_search_bad_requests(server: Server, body: dict[str, Any], loc: list[Any]) -> None:
    response = server.client.post("/v1/search", json=body)
    assert response.status_code == 422, response.text
    assert loc in [e["loc"] for e in response.json()["detail"]]


# ---- histories ----------------------------------------------------------------------
def test_user_and_system_histories_are_in_time_order(server: Server, seeded) -> None:
    assert [e["id"] for e in server.user_history("alice")] == ["invoice-1", "pay-1"]
    response = server.client.get("/v1/systems/checkout/history")
    assert response.status_code == 200
    assert [e["id"] for e in response.json()["events"]] == ["change-1", "pay-1", "alert-1", "pay-2"]
    window = server.client.get("/v1/systems/checkout/history",
                               params={"since": "2026-11-27T09:00:00Z", "until": "2026-11-27T10:00:00Z"})
    assert [e["id"] for e in window.json()["events"]] == ["pay-1", "alert-1"]
    assert server.user_history("nobody-at-all") == []


# ---- bad inputs: rejected, and nothing of them stored ---------------------------------
def _good(event_id: str) -> dict[str, Any]:
    return {"id": event_id, "text": "A perfectly valid report about the payroll export.",
            "occurred_at": "2026-11-27T09:30:00Z"}


BAD_INPUTS = [
    pytest.param({"id": "bad-blank", "text": "   \n\t "}, ["body", "text"], ["bad-blank"], id="blank-text"),
    pytest.param({"id": "bad-empty"}, ["body", "text"], ["bad-empty"], id="no-title-no-text"),
    pytest.param({"id": "bad-naive", "text": "Timestamp without zone", "occurred_at": "2026-11-27T09:30:00"},
                 ["body", "occurred_at"], ["bad-naive"], id="naive-timestamp"),
    pytest.param({"id": "bad-huge", "text": "word " * 4_000 + "x"}, ["body", "text"], ["bad-huge"],
                 id="oversized-text"),
    pytest.param({"id": "bad-title", "title": "t" * 501, "text": "ok"}, ["body", "title"], ["bad-title"],
                 id="oversized-title"),
    pytest.param({"id": "bad-extra", "text": "An otherwise valid report", "severity": "high"},
                 ["body", "severity"], ["bad-extra"], id="unknown-field"),
    pytest.param({"id": 12345, "text": "Id is a number"}, ["body", "id"], ["12345"], id="id-not-a-string"),
    pytest.param({"id": "bad-systems", "text": "Systems is a string", "systems": "checkout"},
                 ["body", "systems"], ["bad-systems"], id="systems-not-a-list"),
    pytest.param({"id": "bad-kind", "kind": "incident", "text": "Unknown kind"}, ["body", "kind"], ["bad-kind"],
                 id="unknown-kind"),
    pytest.param({"id": "bad-text-type", "text": 42}, ["body", "text"], ["bad-text-type"], id="text-not-a-string"),
    pytest.param({"id": "bad-attrs", "text": "Attribute value is a number", "attributes": {"floor": 3}},
                 ["body", "attributes", "floor"], ["bad-attrs"], id="attribute-not-a-string"),
    pytest.param({"id": "bad-date", "text": "Not a date", "occurred_at": "yesterday"}, ["body", "occurred_at"],
                 ["bad-date"], id="timestamp-not-a-date"),
    pytest.param({"id": "", "text": "Empty id"}, ["body", "id"], [], id="empty-id"),
    pytest.param({"events": [_good("batch-bad-0"), {"id": "batch-bad-1", "text": ""}, _good("batch-bad-2")]},
                 ["body", "events", 1, "text"], ["batch-bad-0", "batch-bad-1", "batch-bad-2"],
                 id="batch-one-blank-item"),
    pytest.param({"events": [_good("batch-naive-0"), _good("batch-naive-1") | {"occurred_at": "2026-11-27T09:30"}]},
                 ["body", "events", 1, "occurred_at"], ["batch-naive-0", "batch-naive-1"],
                 id="batch-one-naive-item"),
    pytest.param({"events": [_good("batch-extra-0"), _good("batch-extra-1") | {"colour": "red"}]},
                 ["body", "events", 1, "colour"], ["batch-extra-0", "batch-extra-1"], id="batch-one-unknown-field"),
    pytest.param({"events": [_good("batch-top-0")], "source": "csv"}, ["body", "source"], ["batch-top-0"],
                 id="batch-unknown-top-level-field"),
    pytest.param({"events": []}, ["body", "events"], [], id="empty-batch"),
    pytest.param({"events": _good("batch-notalist")}, ["body", "events"], ["batch-notalist"],
                 id="events-not-a-list"),
    pytest.param([_good("list-body-0")], ["body"], ["list-body-0"], id="body-is-a-list"),
]


@pytest.mark.parametrize("payload, loc, ids", BAD_INPUTS)
def test_bad_input_is_rejected_and_nothing_is_stored(server: Server, seeded, payload: Any, loc: list[Any],
                                                     ids: list[str]) -> None:
    before = server.health()
    response = server.post_events(payload)
    assert response.status_code == 422, response.text
    locs = [e["loc"] for e in response.json()["detail"]]
    assert any(found[:len(loc)] == loc for found in locs), locs
    for event_id in ids:
        assert server.get(event_id).status_code == 404, event_id
    after = server.health()
    assert after["events"] == before["events"] and after["vectors"] == before["vectors"]


def test_malformed_json_is_422(server: Server, seeded) -> None:
    before = server.health()["events"]
    response = server.client.post("/v1/events", content=b'{"id": "bad-json", "text": "unterminated',
                                  headers={"content-type": "application/json"})
    assert response.status_code == 422, response.text
    assert server.get("bad-json").status_code == 404
    assert server.health()["events"] == before


def test_known_id_with_new_content_is_409_and_keeps_the_original(server: Server, seeded) -> None:
    before = server.health()
    changed = copy.deepcopy(seeded["pay-1"]) | {"text": "Completely different content for the same id."}
    response = server.post_events(changed)
    assert response.status_code == 409, response.text
    assert response.json()["detail"]["ids"] == ["pay-1"]
    assert server.get("pay-1").json()["text"] == seeded["pay-1"]["text"]

    # in a batch, the conflict rejects the whole batch: the new event is not stored either
    batch = {"events": [_good("conflict-new"), copy.deepcopy(seeded["pay-2"]) | {"user_id": "mallory"}]}
    response = server.post_events(batch)
    assert response.status_code == 409, response.text
    assert response.json()["detail"]["ids"] == ["pay-2"]
    assert server.get("conflict-new").status_code == 404
    assert server.get("pay-2").json()["user_id"] == "bob"

    # one id twice in a batch with different content
    twice = {"events": [_good("dup-1"), _good("dup-1") | {"text": "Other text for the same id."}]}
    response = server.post_events(twice)
    assert response.status_code == 409, response.text
    assert response.json()["detail"]["ids"] == ["dup-1"]
    assert server.get("dup-1").status_code == 404

    after = server.health()
    assert after["events"] == before["events"] and after["vectors"] == before["vectors"]


def test_batch_over_the_limit_is_413_and_nothing_is_stored(server: Server, seeded) -> None:
    before = server.health()["events"]
    response = server.post_events({"events": [{"id": f"big-{i}", "text": "tiny"} for i in range(1_001)]})
    assert response.status_code == 413, response.text
    assert server.get("big-0").status_code == 404
    assert server.health()["events"] == before
