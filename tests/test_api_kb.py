"""Knowledge-base and suggestion endpoints over an in-memory engine with the hashing embedder."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

ARTICLES = [
    {"id": "kb-pay", "title": "Card payment declined at checkout",
     "body": "If a card payment fails at checkout, check the card limit.\n\nRetry the payment after ten minutes.",
     "systems": ["checkout"], "tags": ["payments"], "url": "https://kb.example/pay"},
    {"id": "kb-sso", "title": "SSO login redirect loop",
     "body": "Clear the browser cookies when the SSO login page redirects in a loop.", "systems": ["auth"]},
    {"id": "kb-vpn", "title": "VPN disconnects", "body": "Update the VPN client when the connection drops.",
     "systems": ["network"], "tags": ["remote"]},
]
EVENTS = [
    {"id": "e1", "text": "card payment declined at checkout again", "user_id": "ann", "systems": ["checkout"],
     "occurred_at": "2026-03-02T09:00:00Z"},
    {"id": "e2", "text": "sso login redirect loop on the portal", "user_id": "bob", "systems": ["auth"],
     "occurred_at": "2026-03-02T10:00:00Z"},
    {"id": "e3", "text": "checkout card payment declined for supplier", "user_id": "cem", "systems": ["checkout"],
     "occurred_at": "2026-03-02T11:00:00Z"},
]


@pytest.fixture
def client() -> Iterator[TestClient]:
    """An app holding ARTICLES and EVENTS."""
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()))
    with TestClient(app) as test_client:
        assert test_client.post("/v1/kb/articles", json={"articles": ARTICLES}).status_code == 201
        assert test_client.post("/v1/events", json={"events": EVENTS}).status_code == 201
        yield test_client


def ids(answer: dict) -> list[str]:
    """Article ids of a suggestions answer, in rank order."""
    return [s["article"]["id"] for s in answer["suggestions"]]


def test_articles_crud_keeps_the_index_in_step(client: TestClient) -> None:
    """POST is idempotent (409 on other content), PUT replaces and re-ranks, DELETE removes from suggestions."""
    assert client.post("/v1/kb/articles", json=ARTICLES[0]).status_code == 200
    changed = {**ARTICLES[0], "title": "Something else"}
    conflict = client.post("/v1/kb/articles", json=changed)
    assert conflict.status_code == 409 and conflict.json()["detail"]["ids"] == ["kb-pay"]
    page = client.get("/v1/kb/articles", params={"limit": 2}).json()
    assert page["total"] == 3 and [a["id"] for a in page["articles"]] == ["kb-pay", "kb-sso"]
    assert [a["id"] for a in client.get("/v1/kb/articles", params={"tag": "remote"}).json()["articles"]] == ["kb-vpn"]
    assert ids(client.get("/v1/users/nobody/suggestions", params={"text": "vpn client connection drops"}).json())[0] == "kb-vpn"
    put = client.put("/v1/kb/articles/kb-vpn", json={"title": "Printer toner", "body": "Replace the printer toner."})
    assert put.status_code == 200 and put.json()["status"] == "updated"
    assert client.get("/v1/kb/articles/kb-vpn").json()["title"] == "Printer toner"
    top = ids(client.get("/v1/users/nobody/suggestions", params={"text": "replace printer toner"}).json())
    assert top[0] == "kb-vpn"
    assert client.delete("/v1/kb/articles/kb-vpn").status_code == 200
    assert client.get("/v1/kb/articles/kb-vpn").status_code == 404
    assert client.delete("/v1/kb/articles/kb-vpn").status_code == 404
    assert "kb-vpn" not in ids(client.get("/v1/users/nobody/suggestions", params={"text": "printer toner", "k": 10}).json())
    created = client.put("/v1/kb/articles/kb-new", json={"title": "New", "body": "A new article."})
    assert created.status_code == 201 and created.json()["status"] == "created"


def test_bad_articles_are_422_naming_the_field_and_nothing_is_stored(client: TestClient) -> None:
    """A bad item rejects the whole batch; the field is named in `loc`."""
    batch = {"articles": [{"id": "ok-1", "title": "Fine", "body": "Fine."}, {"id": "bad/id", "title": "x", "body": "y"}]}
    answer = client.post("/v1/kb/articles", json=batch)
    assert answer.status_code == 422 and answer.json()["detail"][0]["loc"] == ["body", "articles", 1, "id"]
    assert client.get("/v1/kb/articles/ok-1").status_code == 404
    missing = client.post("/v1/kb/articles", json={"id": "x", "title": "No body"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "body"]
    mismatch = client.put("/v1/kb/articles/kb-pay", json={"id": "other", "title": "t", "body": "b"})
    assert mismatch.status_code == 422 and mismatch.json()["detail"][0]["loc"] == ["body", "id"]
    verdict = client.post("/v1/kb/feedback", json={"user_id": "ann", "article_id": "kb-pay", "verdict": "meh"})
    assert verdict.status_code == 422 and verdict.json()["detail"][0]["loc"] == ["body", "verdict"]
    assert client.post("/v1/kb/feedback", json={"user_id": "ann", "article_id": "nope", "verdict": "seen"}).status_code == 404
    assert client.get("/v1/users/ann/suggestions", params={"k": 0}).status_code == 422


def test_same_vague_question_different_users_different_answers(client: TestClient) -> None:
    """History decides for a vague question; reasons name the report and the open narrative."""
    ann = client.get("/v1/users/ann/suggestions", params={"text": "it still does not work"}).json()
    bob = client.get("/v1/users/bob/suggestions", params={"text": "it still does not work"}).json()
    assert ann["mode"] == bob["mode"] == "personal"
    assert ids(ann)[0] == "kb-pay" and ids(bob)[0] == "kb-sso"
    signals = {r["signal"]: r for r in ann["suggestions"][0]["reasons"]}
    assert signals["history"]["event_id"] == "e1" and signals["narrative"]["narrative_id"].startswith("N-")
    assert signals["systems"]["systems"] == ["checkout"] and signals["history"]["passage"]
    assert "vague" in signals["text"]["summary"]


def test_verdicts_demote_and_helped_articles_rise_for_similar_narratives(client: TestClient) -> None:
    """not_helpful demotes for that user; helpful for one user's narrative lifts it for a similar one."""
    before = client.get("/v1/users/ann/suggestions", params={"k": 3}).json()
    assert ids(before)[0] == "kb-pay"
    verdict = client.post("/v1/kb/feedback", json={"user_id": "ann", "article_id": "kb-pay", "verdict": "not_helpful"})
    assert verdict.status_code == 201 and verdict.json()["narrative_id"].startswith("N-")
    after = client.get("/v1/users/ann/suggestions", params={"k": 3}).json()
    demoted = next(s for s in after["suggestions"] if s["article"]["id"] == "kb-pay")
    assert demoted["score"] < before["suggestions"][0]["score"]
    assert any(r["signal"] == "not_helpful" for r in demoted["reasons"]) and ids(after)[-1] == "kb-pay"
    cem_before = next(s for s in client.get("/v1/users/cem/suggestions", params={"k": 3}).json()["suggestions"]
                      if s["article"]["id"] == "kb-sso")
    client.post("/v1/kb/feedback", json={"user_id": "bob", "article_id": "kb-sso", "verdict": "helpful",
                                         "narrative_id": verdict.json()["narrative_id"]})
    cem_after = next(s for s in client.get("/v1/users/cem/suggestions", params={"k": 3}).json()["suggestions"]
                     if s["article"]["id"] == "kb-sso")
    assert cem_after["score"] > cem_before["score"]
    assert any(r["signal"] == "helped_similar" for r in cem_after["reasons"])


def test_trending_fallback_narrative_suggestions_and_gaps(client: TestClient) -> None:
    """No text and no history: trending on the user's systems; narrative suggestions; uncovered narratives."""
    fallback = client.get("/v1/users/newcomer/suggestions", params={"systems": "auth"}).json()
    assert fallback["mode"] == "trending" and ids(fallback)[0] == "kb-sso"
    assert fallback["suggestions"][0]["reasons"][0]["signal"] == "trending"
    narrative = client.get("/v1/events/e1/narrative").json()["id"]
    answer = client.get(f"/v1/narratives/{narrative}/suggestions").json()
    assert answer["mode"] == "narrative" and ids(answer)[0] == "kb-pay"
    assert client.get("/v1/narratives/N-999999/suggestions").status_code == 404
    client.post("/v1/events", json={"id": "e4", "text": "warehouse forklift battery empty", "user_id": "dan",
                                    "occurred_at": "2026-03-02T12:00:00Z"})
    gaps = client.get("/v1/kb/gaps", params={"min_size": 1}).json()["gaps"]
    assert client.get("/v1/events/e4/narrative").json()["id"] in [g["narrative_id"] for g in gaps]
    assert narrative not in [g["narrative_id"] for g in gaps]


def test_erasing_a_user_drops_their_verdicts(client: TestClient) -> None:
    """DELETE /v1/users/{id} also removes the user's knowledge-base verdicts."""
    client.post("/v1/kb/feedback", json={"user_id": "ann", "article_id": "kb-pay", "verdict": "not_helpful"})
    assert client.delete("/v1/users/ann").status_code == 200
    answer = client.get("/v1/users/ann/suggestions", params={"text": "card payment declined", "k": 3}).json()
    assert not any(r["signal"] == "not_helpful" for s in answer["suggestions"] for r in s["reasons"])
