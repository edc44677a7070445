"""Who may call what: API keys with scopes, checked by one dependency every route declares.

Scopes: `ingest` (post reports), `read` (read reports, histories, narratives), `admin` (a
person's edits, consolidation, erasure). `admin` implies the other two; `ingest` and `read`
imply nothing, so an integration that posts alerts cannot read people's reports back.

A route declares its scope in one line, on the route or on its whole router:

    @router.get("/v1/things", dependencies=[READ])          # or: APIRouter(..., dependencies=[READ])

A mounted ASGI app (e.g. MCP) is wrapped instead: `app.mount("/mcp", ScopedApp(mcp_app, Scope.read))`.
`tests/test_auth_routes.py` fails for any route or mount outside `PUBLIC_PATHS` that declares no scope.

With no active key the API is open, but only when the server is bound to a loopback address
(`hypercorr serve` refuses any other address without keys, and an open-capable authenticator
is only built for loopback). Requests with a key are rate-limited per key (token bucket).
"""
from __future__ import annotations

import ipaddress
import logging
from dataclasses import dataclass
from enum import Enum
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.params import Depends as DependsParam
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.types import ASGIApp, Receive, Scope as AsgiScope, Send

from api.mcp.access import credential
from api.rate_limit import RateLimiter
from context_store.api_keys import KeyTable

log = logging.getLogger("hypercorr.auth")

# Paths that answer without a key: liveness, the API description, and Prometheus metrics
# (counts, latencies per route template and store sizes: no report text, no ids).
PUBLIC_PATHS = frozenset({"/healthz", "/metrics", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
# Endpoints that authenticate every request themselves with `Authenticator.scopes_for` and check
# a scope per tool: MCP at /mcp (`api/mcp/`). The route-walking test checks they use it.
SELF_AUTHENTICATING = frozenset({"/mcp"})


class Scope(str, Enum):
    """What a key may do."""

    ingest = "ingest"
    read = "read"
    admin = "admin"


@dataclass(frozen=True)
class Caller:
    """The authenticated caller of a request (`key_id` None: open loopback mode)."""

    key_id: str | None
    scopes: frozenset[str]

    def allows(self, scope: Scope) -> bool:
        """Whether this caller holds `scope` (admin holds every scope)."""
        return scope.value in self.scopes or Scope.admin.value in self.scopes


OPEN_CALLER = Caller(None, frozenset(s.value for s in Scope))


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and 'localhost'; any other name or address counts as exposed."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class AuthError(HTTPException):
    """A 401/403/429 with the headers the status calls for."""


class Authenticator:
    """Verifies keys against the key table, enforces scopes and per-key rate limits."""

    def __init__(self, keys: KeyTable, allow_open: bool, limiter: RateLimiter):
        self.keys = keys
        self.allow_open = allow_open
        self.limiter = limiter

    def scopes_for(self, key: str | None) -> frozenset[str] | None:
        """The caller's effective scopes (admin expanded to all), or None when not authenticated.

        The `KeyVerifier` of the MCP endpoint, which checks each tool's scope itself.
        """
        if key is None:
            return OPEN_CALLER.scopes if self.allow_open and not self.keys.has_active() else None
        found = self.keys.verify(key)
        if found is None:
            return None
        caller = Caller(found.key_id, frozenset(found.scopes))
        return frozenset(s.value for s in Scope if caller.allows(s))

    def authorize(self, key: str | None, scope: Scope) -> Caller:
        """The caller, or AuthError: 401 (no or bad key), 403 (scope missing), 429 (rate limit)."""
        if key is None:
            if self.allow_open and not self.keys.has_active():
                return OPEN_CALLER
            raise AuthError(401, "an API key is required: send 'Authorization: Bearer <key>' "
                                 "(create one with `hypercorr keys create`)", {"WWW-Authenticate": "Bearer"})
        found = self.keys.verify(key)
        if found is None:
            raise AuthError(401, "unknown or revoked API key", {"WWW-Authenticate": "Bearer"})
        caller = Caller(found.key_id, frozenset(found.scopes))
        if not caller.allows(scope):
            raise AuthError(403, f"this key lacks the '{scope.value}' scope (it has: {', '.join(found.scopes)})")
        wait = self.limiter.take(found.key_id)
        if wait:
            raise AuthError(429, f"rate limit of key {found.key_id} exceeded; retry in {wait} s",
                            {"Retry-After": str(wait)})
        return caller


_bearer = HTTPBearer(auto_error=False, description="An API key from `hypercorr keys create`.")


def _presented_key(request: Request) -> str | None:
    """`Authorization: Bearer <key>`, or `X-API-Key: <key>` (as /mcp accepts)."""
    return credential(request.headers)


class RequireScope:
    """The dependency behind READ / INGEST / ADMIN; `scope` is what the route-walking test reads."""

    def __init__(self, scope: Scope):
        self.scope = scope

    async def __call__(self, request: Request,
                       _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Caller:
        caller = request.app.state.auth.authorize(_presented_key(request), self.scope)
        request.state.key_id = caller.key_id
        return caller


def requires(scope: Scope) -> DependsParam:
    """`Depends` for a route's `dependencies=[...]` list."""
    return Depends(RequireScope(scope))


READ = requires(Scope.read)
INGEST = requires(Scope.ingest)
ADMIN = requires(Scope.admin)


class ScopedApp:
    """Wraps a mounted ASGI app so every HTTP request to it needs `scope` (as READ etc. do for routes)."""

    def __init__(self, app: ASGIApp, scope: Scope):
        self.app = app
        self.scope = scope

    async def __call__(self, scope: AsgiScope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            request = Request(scope, receive)
            try:
                request.app.state.auth.authorize(_presented_key(request), self.scope)
            except AuthError as exc:
                await JSONResponse({"detail": exc.detail}, exc.status_code, headers=exc.headers)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def check_exposure(keys: KeyTable, host: str) -> str | None:
    """Refuse to serve an exposed address without keys (ValueError); a warning text for open loopback."""
    if keys.has_active():
        return None
    if not is_loopback(host):
        raise ValueError(
            f"refusing to serve on {host} without API keys: anyone who can reach it could read and erase "
            "people's reports. Create a key first (`hypercorr keys create --name ops --scope admin "
            "--data-dir DIR`), or bind to 127.0.0.1.")
    return (f"no API keys configured: the API on {host} is OPEN to every local process. "
            "Create one with `hypercorr keys create` to require keys.")
