"""Every route declares a scope, and every route enforces it: no key 401, wrong scope 403, right scope in.

The walk covers whatever routers `create_app` includes, so a route added later without a
scope (or a mounted app not wrapped in `ScopedApp`) fails here until it declares one.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount

from api.app import create_app
from api.auth import PUBLIC_PATHS, SELF_AUTHENTICATING, RequireScope, Scope, ScopedApp, check_exposure
from context_store.api_keys import KeyTable
from engine import Engine, Settings
from tests.fakes import HashingEmbedder

WRONG = {Scope.read: ("ingest",), Scope.ingest: ("read",), Scope.admin: ("read", "ingest")}


def declared_scopes(dependant: Dependant) -> set[Scope]:
    """Scopes required anywhere in a route's dependency tree."""
    found = {dependant.call.scope} if isinstance(dependant.call, RequireScope) else set()
    for sub in dependant.dependencies:
        found |= declared_scopes(sub)
    return found


def flat_routes(app: FastAPI) -> list[RouteContext]:
    """Every route with its effective path and dependencies (FastAPI resolves included routers lazily)."""
    return list(iter_route_contexts(app.routes))


def scoped_routes(app: FastAPI) -> list[tuple[str, str, Scope]]:
    """(method, path, scope) of every non-public route; asserts each declares exactly one scope."""
    routes, undeclared = [], []
    for route in flat_routes(app):
        path = route.path or ""
        if path in PUBLIC_PATHS:
            continue
        if path in SELF_AUTHENTICATING:
            assert route.endpoint.verifier == app.state.auth.scopes_for, f"{path} must verify keys with the app's keys"
            continue
        if isinstance(route.original_route, Mount):
            if not isinstance(route.app, ScopedApp):
                undeclared.append(f"mount {path}")
            else:
                routes.append(("GET", path + "/", route.app.scope))
            continue
        scopes = declared_scopes(route.dependant) if isinstance(route.original_route, APIRoute) else set()
        if len(scopes) != 1:
            undeclared.append(f"{sorted(getattr(route, 'methods', []) or [])} {path}: {scopes or 'no scope'}")
            continue
        routes.extend((method, path, next(iter(scopes))) for method in sorted(route.methods))
    assert not undeclared, f"routes without exactly one scope (add dependencies=[READ|INGEST|ADMIN]): {undeclared}"
    return routes


def make_app(bind_host: str = "127.0.0.1") -> tuple[FastAPI, KeyTable]:
    keys = KeyTable.open(None)
    app = create_app(Settings(backend="memory", rate_limit_per_second=0),
                     lambda s: Engine(s, embedder=HashingEmbedder()), bind_host=bind_host, keys=keys)
    return app, keys


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[TestClient, KeyTable]]:
    app, keys = make_app()
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, keys


def call(client: TestClient, method: str, path: str, key: str | None) -> int:
    url = re.sub(r"\{[^}]+\}", "x", path)
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return client.request(method, url, headers=headers, json=body).status_code


def test_every_route_declares_one_scope() -> None:
    app, _ = make_app()
    routes = scoped_routes(app)
    assert ("POST", "/v1/events", Scope.ingest) in routes
    assert ("DELETE", "/v1/users/{user_id}", Scope.admin) in routes
    assert ("GET", "/v1/users/{user_id}/history", Scope.read) in routes


def test_every_route_enforces_its_scope(served: tuple[TestClient, KeyTable]) -> None:
    client, keys = served
    keys.create("seed", ("admin",))  # with an active key the loopback server is no longer open
    routes = scoped_routes(client.app)
    wrong = {scope: keys.create(f"wrong-{scope.value}", WRONG[scope])[1] for scope in Scope}
    right = {scope: keys.create(f"right-{scope.value}", (scope.value,))[1] for scope in Scope}
    admin = right[Scope.admin]
    failures = []
    for method, path, scope in routes:
        outcomes = {"no key": call(client, method, path, None), "bad key": call(client, method, path, "hc_x_y"),
                    "wrong scope": call(client, method, path, wrong[scope]),
                    "right scope": call(client, method, path, right[scope]), "admin": call(client, method, path, admin)}
        expected_ok = outcomes["right scope"] not in (401, 403) and outcomes["admin"] not in (401, 403)
        if (outcomes["no key"], outcomes["bad key"], outcomes["wrong scope"]) != (401, 401, 403) or not expected_ok:
            failures.append((method, path, scope.value, outcomes))
    assert not failures, failures


def test_public_paths_need_no_key(served: tuple[TestClient, KeyTable]) -> None:
    client, _ = served
    for path in ("/healthz", "/metrics", "/openapi.json", "/docs"):
        assert client.get(path).status_code == 200, path


def test_revoked_key_is_refused_at_once(served: tuple[TestClient, KeyTable]) -> None:
    client, keys = served
    row, key = keys.create("soon-revoked", ("read",))
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/narratives", headers=headers).status_code == 200
    assert keys.revoke(row.key_id)
    response = client.get("/v1/narratives", headers=headers)
    assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"


def test_a_tampered_secret_is_refused(served: tuple[TestClient, KeyTable]) -> None:
    client, keys = served
    _, key = keys.create("tamper", ("read",))
    tampered = key[:-1] + ("A" if key[-1] != "A" else "B")
    assert client.get("/v1/narratives", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401


def test_loopback_without_keys_is_open_and_other_hosts_are_not() -> None:
    open_app, _ = make_app("127.0.0.1")
    with TestClient(open_app) as client:
        assert client.get("/v1/narratives").status_code == 200
        assert client.post("/v1/narratives/consolidate").status_code == 200
    closed_app, _ = make_app("0.0.0.0")
    with TestClient(closed_app) as client:
        assert client.get("/v1/narratives").status_code == 401


def test_an_unscoped_route_fails_the_walk() -> None:
    app, _ = make_app()

    @app.get("/v1/forgotten")
    def forgotten() -> dict[str, str]:
        return {}

    with pytest.raises(AssertionError, match="/v1/forgotten"):
        scoped_routes(app)


def test_mounted_apps_need_a_scope_wrapper() -> None:
    async def inner(scope, receive, send) -> None:  # noqa: ANN001 - a bare ASGI app
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app, keys = make_app()
    app.mount("/plain", inner)
    with pytest.raises(AssertionError, match="mount /plain"):
        scoped_routes(app)
    app, keys = make_app()
    app.mount("/tools", ScopedApp(inner, Scope.read))
    assert ("GET", "/tools/", Scope.read) in scoped_routes(app)
    _, read_key = keys.create("reader", ("read",))
    _, ingest_key = keys.create("writer", ("ingest",))
    with TestClient(app) as client:
        assert call(client, "GET", "/tools/", None) == 401
        assert call(client, "GET", "/tools/", ingest_key) == 403
        assert call(client, "GET", "/tools/", read_key) == 200


def test_the_walk_sees_every_api_route() -> None:
    app, _ = make_app()
    assert len(scoped_routes(app)) >= 17  # events 4, narratives 10, people 3 today


def test_exposure_rules() -> None:
    keys = KeyTable.open(None)
    assert "OPEN" in check_exposure(keys, "127.0.0.1") and "OPEN" in check_exposure(keys, "::1")
    for host in ("0.0.0.0", "::", "192.168.1.20", "hypercorr.example.org"):
        with pytest.raises(ValueError, match="hypercorr keys create"):
            check_exposure(keys, host)
    keys.create("ops", ("admin",))
    assert check_exposure(keys, "0.0.0.0") is None and check_exposure(keys, "127.0.0.1") is None


def test_mcp_uses_the_api_keys(served: tuple[TestClient, KeyTable]) -> None:
    client, keys = served
    _, ingest_key = keys.create("mcp-ingest", ("ingest",))
    _, admin_key = keys.create("mcp-admin", ("admin",))
    auth = client.app.state.auth
    assert auth.scopes_for(None) is None and auth.scopes_for("hc_nope_nope") is None  # keys exist: not open
    assert auth.scopes_for(ingest_key) == {"ingest"}
    assert auth.scopes_for(admin_key) == {"ingest", "read", "admin"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    headers = {"Accept": "application/json, text/event-stream"}
    assert client.post("/mcp", json=body, headers=headers).status_code == 401
    answer = client.post("/mcp", json=body, headers={**headers, "X-API-Key": admin_key})
    assert answer.status_code not in (401, 403), answer.text  # past the door (TestClient's Host is not loopback: 421)
