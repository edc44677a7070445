"""Triage end to end: a real server with the real model enriches reports, takes a person's
overrides and keeps them across a restart."""
from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

ROUTES = {"finance": "fin-apps", "portal": "web-team", "reporting": "bi-team"}
REPORTS: list[dict[str, Any]] = [
    {"id": "t-bug", "title": "Invoice screen crashes", "user_id": "ann", "systems": ["finance"],
     "text": "When I click save on the invoice the application crashes with an exception and nothing is saved.",
     "occurred_at": "2026-11-27T09:00:00Z"},
    {"id": "t-howto", "title": "How do I change my password?", "user_id": "bob", "systems": ["portal"],
     "text": "Where can I find the option to change my password in the portal?",
     "occurred_at": "2026-11-27T09:05:00Z"},
    {"id": "t-slow", "title": "Monthly report very slow", "user_id": "cy", "systems": ["reporting"],
     "text": "The monthly report takes ten minutes to load and often times out.",
     "occurred_at": "2026-11-27T09:10:00Z", "impact": "high", "urgency": "critical"},
    {"id": "t-thanks", "title": "", "user_id": "dee", "systems": ["portal"],
     "text": "Thanks a lot, the new dashboard is great and much easier to use!",
     "occurred_at": "2026-11-27T09:15:00Z"},
    {"id": "t-alert", "kind": "alert", "title": "reporting p95 latency above 8s", "systems": ["reporting"],
     "occurred_at": "2026-11-27T09:11:00Z"},
]


def test_triage_with_the_real_model_overrides_and_restart(launch, tmp_path: Path) -> None:
    env = {"HYPERCORR_TRIAGE_ROUTES": json.dumps(ROUTES)}
    data_dir = tmp_path / "data"
    server = launch(data_dir, extra_env=env)
    answer = {r["id"]: r["triage"] for r in server.ingest(REPORTS)["results"]}
    assert answer["t-alert"] is None
    assert answer["t-bug"]["category"]["value"] == "software_bug"
    assert answer["t-howto"]["category"]["value"] == "user_training_need"
    assert answer["t-slow"]["category"]["value"] == "performance_issue"
    assert answer["t-thanks"]["sentiment"]["value"] == "positive"
    assert answer["t-bug"]["sentiment"]["value"] == "negative"
    assert answer["t-slow"]["priority"]["value"] == "P1"
    assert {i: answer[i]["team"]["value"] for i in ("t-bug", "t-howto", "t-slow")} == {
        "t-bug": "fin-apps", "t-howto": "web-team", "t-slow": "bi-team"}
    assert server.get("t-bug").json()["triage"] == answer["t-bug"]

    override = server.client.patch("/v1/events/t-howto/triage",
                                    json={"category": "documentation_error", "team": "docs-team", "by": "eve"})
    assert override.status_code == 200, override.text
    assert server.client.patch("/v1/events/t-howto/triage", json={"priority": "P9"}).status_code == 422
    narrative = server.client.get("/v1/events/t-bug/narrative").json()["id"]
    assert server.client.post(f"/v1/narratives/{narrative}/resolve", json={"team": "fin-l2"}).status_code == 200
    before = {i: server.get(i).json()["triage"] for i in answer}
    server.stop(signal.SIGTERM)  # graceful: waits for the process to exit

    again = launch(data_dir, extra_env=env)
    assert {i: again.get(i).json()["triage"] for i in answer} == before
    assert before["t-howto"]["category"]["source"] == "person"
    similar = {"id": "t-bug-2", "title": "Invoice save crashes again", "user_id": "fay", "systems": ["finance"],
               "text": "Saving an invoice crashes the application with an exception.",
               "occurred_at": "2026-11-27T10:00:00Z"}
    team = again.ingest([similar])["results"][0]["triage"]["team"]
    assert team["value"] == "fin-l2", team  # learned from the narrative resolved by fin-l2
