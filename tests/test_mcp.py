"""MCP over streamable HTTP, in-process uvicorn with the hashing embedder: scopes and argument errors.

The real-model, real-subprocess runs (stdio and HTTP, answers compared with the HTTP API) are in
tests/e2e/test_mcp.py; here a test verifier stands in for the API-key store.
"""
from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import httpx
import pytest
import uvicorn

from api.app import create_app
from api.mcp.access import Access, credential
from api.mcp.http import transport_security
from api.mcp.registry import Registry
from engine import Engine, Settings
from tests.fakes import HashingEmbedder
from tests.mcp_client import error_text, http_session, resource_json, run, structured
from tests.test_api import EVENTS

KEYS = {"reader-key": frozenset({"read"}), "ingest-key": frozenset({"ingest"}),
        "admin-key": frozenset({"read", "ingest", "admin"})}
TOOLS = {"related_reports", "search_reports", "list_narratives", "get_narrative", "narrative_for_event",
         "link_feedback", "get_user_context", "suggest_articles", "narrative_articles", "article_feedback"}


def key_scopes(key: str | None) -> frozenset[str] | None:
    """Scopes of the three test keys; no key or another key: not authenticated."""
    return KEYS.get(key or "")


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A real uvicorn server in a thread: the app with the test verifier, holding EVENTS."""
    app = create_app(Settings(backend="memory"), lambda s: Engine(s, embedder=HashingEmbedder()),
                     mcp_verifier=key_scopes)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    response = httpx.post(f"{url}/v1/events", json={"events": EVENTS}, trust_env=False)
    assert response.status_code == 201, response.text
    yield url
    server.should_exit = True
    thread.join(30)


def call(url: str, key: str | None, tool: str, arguments: dict[str, Any]) -> Any:
    """One tool call over MCP with this key."""
    return run(partial(http_session, f"{url}/mcp", key), lambda c: c.call_tool(tool, arguments))


def test_a_request_without_a_known_key_is_401(base_url: str) -> None:
    """The door refuses a missing or unknown key before any MCP message is read."""
    for headers in ({}, {"Authorization": "Bearer nope"}):
        response = httpx.post(f"{base_url}/mcp", headers=headers, trust_env=False,
                              json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"})
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
    with pytest.raises(Exception):
        call(base_url, None, "list_narratives", {})


def test_every_tool_is_listed_with_its_schema(base_url: str) -> None:
    """tools/list names every tool with an input and an output schema and a description."""
    tools = run(partial(http_session, f"{base_url}/mcp", "reader-key"), lambda c: c.list_tools()).tools
    assert {t.name for t in tools} == TOOLS
    for tool in tools:
        assert tool.description and tool.output_schema and tool.input_schema["type"] == "object"


def test_per_user_context_needs_the_read_scope(base_url: str) -> None:
    """An ingest-only key gets a tool error naming the scope, and none of the user's data."""
    refused = call(base_url, "ingest-key", "get_user_context", {"user_id": "u-1042"})
    message = error_text(refused)
    assert "'read' scope" in message and "fb-1" not in message and "invoice" not in message
    assert refused.structured_content is None
    for tool, args in (("search_reports", {"text": "invoice", "user_id": "u-1042"}),
                       ("list_narratives", {"user_id": "u-1042"}), ("related_reports", {"event_id": "fb-1"})):
        assert "'read' scope" in error_text(call(base_url, "ingest-key", tool, args))
    with pytest.raises(Exception, match="read"):
        run(partial(http_session, f"{base_url}/mcp", "ingest-key"),
            lambda c: c.read_resource("hypercorr://users/u-1042"))
    allowed = structured(call(base_url, "reader-key", "get_user_context", {"user_id": "u-1042"}))
    assert [e["id"] for e in allowed["history"]["events"]] == ["fb-1", "fb-2", "fb-3"]


def test_link_feedback_needs_the_admin_scope_as_over_http(base_url: str) -> None:
    """A person's edit: read and ingest keys are refused (as POST /v1/links/feedback does); admin records it."""
    for key in ("reader-key", "ingest-key"):
        assert "'admin' scope" in error_text(call(base_url, key, "link_feedback",
                                                  {"a": "fb-1", "b": "fb-2", "verdict": "confirm"}))
    done = structured(call(base_url, "admin-key", "link_feedback", {"a": "fb-1", "b": "fb-2", "verdict": "confirm"}))
    assert done["narratives"]["fb-1"] == done["narratives"]["fb-2"]


def test_article_tools_answer_like_the_http_routes_and_keep_their_scopes(base_url: str) -> None:
    """Suggestions need read (they come from a user's history); a verdict needs ingest and is kept."""
    article = {"id": "kb-invoice", "title": "Invoice upload fails with an error",
               "body": "When the invoice upload fails, clear the draft and upload the PDF again.",
               "systems": ["payments"], "tags": ["invoice"]}
    assert httpx.post(f"{base_url}/v1/kb/articles", json=article, trust_env=False).status_code == 201
    args = {"user_id": "u-1042", "text": "it still does not work", "k": 3}
    assert "'read' scope" in error_text(call(base_url, "ingest-key", "suggest_articles", args))
    answer = structured(call(base_url, "reader-key", "suggest_articles", args))
    http = httpx.get(f"{base_url}/v1/users/u-1042/suggestions", params=args, trust_env=False).json()
    assert answer == http and answer["suggestions"][0]["article"]["id"] == "kb-invoice"
    verdict = {"user_id": "u-1042", "article_id": "kb-invoice", "verdict": "not_helpful"}
    assert "'ingest' scope" in error_text(call(base_url, "reader-key", "article_feedback", verdict))
    recorded = structured(call(base_url, "ingest-key", "article_feedback", verdict))
    assert (recorded["article_id"], recorded["verdict"]) == ("kb-invoice", "not_helpful")
    assert "verdict" in error_text(call(base_url, "ingest-key", "article_feedback", {**verdict, "verdict": "meh"}))


@pytest.mark.parametrize(("tool", "arguments", "named"), [
    ("related_reports", {"event_id": "fb-1", "k": 0}, "k"),
    ("related_reports", {"event_id": "fb-1", "filters": {"since": "2026-03-01T00:00:00"}}, "since"),
    ("related_reports", {"event_id": "fb-1", "filters": {"colour": "red"}}, "colour"),
    ("related_reports", {}, "event_id"),
    ("related_reports", {"event_id": "fb-1", "kinds": ["alert"]}, "kinds"),
    ("search_reports", {"text": "   "}, "text"),
    ("list_narratives", {"status": "sleeping"}, "status"),
    ("list_narratives", {"since": "yesterday"}, "since"),
    ("get_narrative", {"narrative_id": "N-1", "max_members": 0}, "max_members"),
    ("link_feedback", {"a": "fb-1", "b": "fb-2", "verdict": "maybe"}, "verdict"),
    ("get_user_context", {"user_id": "u-1042", "limit": 5000}, "limit"),
])
def test_bad_arguments_are_tool_errors_naming_the_argument(base_url: str, tool: str, arguments: dict[str, Any],
                                                           named: str) -> None:
    """A wrong argument is an is_error result whose message names it; the server keeps serving."""
    assert named in error_text(call(base_url, "admin-key", tool, arguments))


@pytest.mark.parametrize(("tool", "arguments", "message"), [
    ("related_reports", {"event_id": "nope"}, "event 'nope' not found"),
    ("get_narrative", {"narrative_id": "N-999999"}, "narrative 'N-999999' not found"),
    ("narrative_for_event", {"event_id": "nope"}, "event 'nope' not found"),
    ("link_feedback", {"a": "fb-1", "b": "nope", "verdict": "reject"}, "event 'nope' not found"),
    ("link_feedback", {"a": "fb-1", "b": "fb-1", "verdict": "confirm"}, "two different events"),
])
def test_unknown_ids_and_refused_edits_are_tool_errors(base_url: str, tool: str, arguments: dict[str, Any],
                                                      message: str) -> None:
    """What the HTTP API answers with 404/409 is a tool error with the same reason."""
    assert message in error_text(call(base_url, "admin-key", tool, arguments))


def test_resources_by_id(base_url: str) -> None:
    """Narratives and user contexts are readable by URI; an unknown narrative is an error."""
    session = partial(http_session, f"{base_url}/mcp", "reader-key")
    templates = run(session, lambda c: c.list_resource_templates()).resource_templates
    assert {t.uri_template for t in templates} == {"hypercorr://narratives/{narrative_id}",
                                                   "hypercorr://users/{user_id}"}
    narrative_id = structured(call(base_url, "reader-key", "narrative_for_event", {"event_id": "fb-1"}))["id"]
    narrative = resource_json(run(session, lambda c: c.read_resource(f"hypercorr://narratives/{narrative_id}")))
    assert narrative["id"] == narrative_id and "fb-1" in [m["event"]["id"] for m in narrative["members"]]
    user = resource_json(run(session, lambda c: c.read_resource("hypercorr://users/u-2001")))
    assert [e["id"] for e in user["history"]["events"]] == ["fb-4"]
    with pytest.raises(Exception, match="N-999999"):
        run(session, lambda c: c.read_resource("hypercorr://narratives/N-999999"))


def test_credential_sources() -> None:
    """A key comes from a bearer token or X-API-Key; stdio (no verifier) is trusted with every scope."""
    assert credential({"authorization": "Bearer abc"}) == "abc"
    assert credential({"x-api-key": "xyz"}) == "xyz"
    assert credential({"authorization": "Basic abc"}) is None and credential(None) is None
    assert Access(None).scopes(None) == {"read", "ingest", "admin"}
    assert Access(key_scopes).scopes({"authorization": "Bearer reader-key"}) == {"read"}


def test_a_tool_without_a_context_parameter_is_refused() -> None:
    """Registration refuses a tool that could not check its scope."""
    registry = Registry(lambda: None, Access(None))  # type: ignore[arg-type, return-value]
    with pytest.raises(TypeError, match="ctx: Context"):
        registry.tool("read", title="x")(lambda: None)


def test_dns_rebinding_protection(base_url: str) -> None:
    """/mcp answers only loopback Host headers unless more are configured ('*': any)."""
    response = httpx.post(f"{base_url}/mcp", trust_env=False, json={"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
                          headers={"Host": "evil.example", "Authorization": "Bearer admin-key",
                                   "Accept": "application/json, text/event-stream"})
    assert response.status_code == 421
    configured = transport_security(["hypercorr.internal:8000"])
    assert configured.enable_dns_rebinding_protection and "hypercorr.internal:8000" in configured.allowed_hosts
    assert "https://hypercorr.internal:8000" in configured.allowed_origins
    assert not transport_security(["*"]).enable_dns_rebinding_protection


def test_get_narrative_can_keep_only_the_latest_members(base_url: str) -> None:
    """`max_members` keeps the latest members by time, in the HTTP API's order; `size` stays the full count."""
    narrative = structured(call(base_url, "reader-key", "narrative_for_event", {"event_id": "fb-1"}))
    full = httpx.get(f"{base_url}/v1/narratives/{narrative['id']}", trust_env=False).json()
    assert narrative == full and len(full["members"]) >= 2
    cut = structured(call(base_url, "reader-key", "get_narrative", {"narrative_id": full["id"], "max_members": 1}))
    latest = max(full["members"], key=lambda m: m["event"]["occurred_at"])
    assert cut["members"] == [latest] and cut["size"] == full["size"]
