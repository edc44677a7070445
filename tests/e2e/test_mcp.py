"""MCP end to end with the real model: the SDK's client over streamable HTTP (a real `hypercorr serve`)
and over stdio (`python -m api.cli mcp`), each tool's answer compared with the HTTP API's."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest
from mcp.client.stdio import StdioServerParameters

from tests.e2e.conftest import REPO, STARTUP_TIMEOUT, Server, corpus, lock_is_free
from tests.mcp_client import error_text, http_session, resource_json, run, stdio_session, structured

pytestmark = pytest.mark.e2e

TOOLS = {"related_reports", "search_reports", "list_narratives", "get_narrative", "narrative_for_event",
         "link_feedback", "get_user_context"}
SEARCH = {"text": "card payment declined at checkout", "k": 5, "user_id": "alice", "systems": ["checkout"]}
FEEDBACK = {"a": "printer-1", "b": "printer-2", "verdict": "confirm"}


def probes(narrative_id: str) -> dict[str, tuple[str, dict[str, Any]]]:
    """Tool calls, by name, whose answers are compared with the HTTP API's."""
    return {
        "related": ("related_reports", {"event_id": "pay-1", "k": 5}),
        "related_filtered": ("related_reports", {"event_id": "pay-2", "k": 5,
                                                 "filters": {"kinds": ["alert", "change"], "earlier_only": True}}),
        "search": ("search_reports", SEARCH),
        "narratives": ("list_narratives", {}),
        "narratives_checkout": ("list_narratives", {"system": "checkout", "sort": "size"}),
        "narrative": ("get_narrative", {"narrative_id": narrative_id}),
        "event_narrative": ("narrative_for_event", {"event_id": "printer-2"}),
        "user": ("get_user_context", {"user_id": "alice"}),
    }


def http_answers(client: httpx.Client, narrative_id: str) -> dict[str, Any]:
    """The same questions asked of the HTTP API, in the MCP tools' answer shapes."""
    def ok(response: httpx.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    alice_narratives = ok(client.get("/v1/narratives", params={"user_id": "alice"}))["narratives"]
    return {
        "related": {"related": ok(client.get("/v1/events/pay-1/related", params={"k": 5}))},
        "related_filtered": {"related": ok(client.get("/v1/events/pay-2/related", params={
            "k": 5, "kinds": ["alert", "change"], "earlier_only": "true"}))},
        "search": {"related": ok(client.post("/v1/search", json=SEARCH))},
        "narratives": ok(client.get("/v1/narratives")),
        "narratives_checkout": ok(client.get("/v1/narratives", params={"system": "checkout", "sort": "size"})),
        "narrative": ok(client.get(f"/v1/narratives/{narrative_id}")),
        "event_narrative": ok(client.get("/v1/events/printer-2/narrative")),
        "user": {"user_id": "alice", "history": ok(client.get("/v1/users/alice/history")),
                 "open_narratives": [n for n in alice_narratives if n["status"] != "resolved"]},
    }


def rounded(value: Any) -> Any:
    """JSON with floats rounded (a search embeds its text again in another process)."""
    if isinstance(value, float):
        return round(value, 5)
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    return value


async def ask_everything(client: Any, narrative_id: str) -> dict[str, Any]:
    """List the tools, call every probe, read both resources and make one bad call; all in one session."""
    answers: dict[str, Any] = {"tools": {t.name for t in (await client.list_tools()).tools}}
    for name, (tool, arguments) in probes(narrative_id).items():
        answers[name] = structured(await client.call_tool(tool, arguments))
    answers["feedback"] = structured(await client.call_tool("link_feedback", FEEDBACK))
    answers["narrative_resource"] = resource_json(await client.read_resource(f"hypercorr://narratives/{narrative_id}"))
    answers["user_resource"] = resource_json(await client.read_resource("hypercorr://users/alice"))
    answers["bad_k"] = error_text(await client.call_tool("related_reports", {"event_id": "pay-1", "k": 1000}))
    answers["unknown"] = error_text(await client.call_tool("get_narrative", {"narrative_id": "N-999999"}))
    answers["after_errors"] = structured(await client.call_tool("list_narratives", {"limit": 1}))
    return answers


def check(answers: dict[str, Any], expected: dict[str, Any], feedback: dict[str, Any]) -> None:
    """Every MCP answer equals the HTTP API's."""
    assert answers["tools"] == TOOLS
    for name in expected:
        assert rounded(answers[name]) == rounded(expected[name]), name
    assert answers["feedback"] == feedback
    assert rounded(answers["narrative_resource"]) == rounded(expected["narrative"])
    assert rounded(answers["user_resource"]) == rounded(expected["user"])
    assert "k" in answers["bad_k"] and "less than or equal to 100" in answers["bad_k"]
    assert "narrative 'N-999999' not found" in answers["unknown"]
    assert len(answers["after_errors"]["narratives"]) == 1


def _child_env() -> dict[str, str]:
    """This environment without HYPERCORR_ settings, offline model loading."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HYPERCORR_")}
    env.update({"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"})
    return env


@pytest.fixture(scope="module")
def server(launch, tmp_path_factory) -> Server:
    """A real server holding the corpus, after one confirmed link (made over HTTP)."""
    server = launch(tmp_path_factory.mktemp("mcp") / "data")
    server.ingest(corpus())
    return server


@pytest.fixture(scope="module")
def state(server: Server) -> dict[str, Any]:
    """The narrative under test, the HTTP feedback answer and the HTTP API's answers to every probe."""
    feedback = server.client.post("/v1/links/feedback", json=FEEDBACK)
    assert feedback.status_code == 200, feedback.text
    narrative_id = server.client.get("/v1/events/pay-1/narrative").json()["id"]
    expected = http_answers(server.client, narrative_id)
    for name in ("related", "related_filtered", "search"):
        assert expected[name]["related"], name  # a comparison of empty lists would prove nothing
    assert expected["user"]["history"]["events"] and expected["narrative"]["members"]
    return {"narrative_id": narrative_id, "feedback": feedback.json(), "expected": expected}


def test_mcp_over_http_agrees_with_the_http_api(server: Server, state: dict[str, Any]) -> None:
    """Over streamable HTTP at /mcp on the running service, every tool answers as the HTTP API does."""
    session: Callable[[], Any] = partial(http_session, f"{server.base_url}/mcp")
    answers = run(session, lambda c: ask_everything(c, state["narrative_id"]))
    check(answers, state["expected"], state["feedback"])
    assert http_answers(server.client, state["narrative_id"]) == state["expected"]  # the repeated confirm changed nothing


def test_stdio_on_a_data_dir_held_by_the_server_is_a_clear_error(server: Server, state: dict[str, Any]) -> None:
    """`hypercorr mcp` on a directory a running server holds exits 2 with a message; stdout stays clean."""
    done = subprocess.run([sys.executable, "-m", "api.cli", "mcp", "--data-dir", str(server.data_dir)],
                          cwd=REPO, env=_child_env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                          timeout=STARTUP_TIMEOUT)
    assert done.returncode == 2 and done.stdout == ""
    assert "error:" in done.stderr and str(server.data_dir) in done.stderr


def test_mcp_over_stdio_agrees_with_the_http_api(server: Server, state: dict[str, Any]) -> None:
    """`python -m api.cli mcp` on the same data dir (server stopped) answers as the HTTP API did."""
    assert server.stop() in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after a clean shutdown
    assert lock_is_free(server.data_dir)
    params = StdioServerParameters(command=sys.executable, cwd=str(REPO), env=_child_env(),
                                   args=["-m", "api.cli", "mcp", "--data-dir", str(server.data_dir)])
    answers = run(partial(stdio_session, params), lambda c: ask_everything(c, state["narrative_id"]))
    check(answers, state["expected"], state["feedback"])
