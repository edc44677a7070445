"""MCP over streamable HTTP at /mcp, inside the FastAPI app and on the app's Engine.

The SDK's session manager must run for as long as the app serves: `create_app`'s lifespan enters
`McpEndpoint.running()` (a fresh manager each time, since a manager runs only once). The endpoint
is stateless (each POST stands alone, answers are plain JSON), so any number of assistants can
call it and every request is authenticated on its own.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from api.mcp.access import KeyVerifier, credential, open_access
from api.mcp.server import build_server
from engine import Engine

LOOPBACK_HOSTS = ["127.0.0.1:*", "localhost:*", "[::1]:*"]
LOOPBACK_ORIGINS = ["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"]


def transport_security(allowed_hosts: Sequence[str]) -> TransportSecuritySettings:
    """DNS-rebinding protection: loopback Host/Origin headers plus `allowed_hosts` ('*': no check)."""
    if "*" in allowed_hosts:
        return TransportSecuritySettings(enable_dns_rebinding_protection=False)
    extra = list(allowed_hosts)
    return TransportSecuritySettings(allowed_hosts=LOOPBACK_HOSTS + extra,
                                     allowed_origins=LOOPBACK_ORIGINS + [f"http://{h}" for h in extra]
                                     + [f"https://{h}" for h in extra])


class McpEndpoint:
    """The ASGI endpoint at /mcp: refuses unauthenticated requests, then hands over to the SDK."""

    def __init__(self, engine: Callable[[], Engine], verifier: KeyVerifier, allowed_hosts: Sequence[str] = ()):
        self.verifier = verifier
        self.server, self.registry = build_server(engine, verifier)
        self._security = transport_security(allowed_hosts)
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run a session manager for the lifetime of the app."""
        self.server.streamable_http_app(stateless_http=True, json_response=True, transport_security=self._security)
        manager = self.server.session_manager
        async with manager.run():
            self._manager = manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._manager is None:
            await JSONResponse({"detail": "MCP is not running"}, status_code=503)(scope, receive, send)
            return
        if self.verifier(credential(Headers(scope=scope))) is None:
            response = JSONResponse({"detail": "missing or unknown API key (send 'Authorization: Bearer <key>')"},
                                    status_code=401, headers={"WWW-Authenticate": "Bearer"})
            await response(scope, receive, send)
            return
        await self._manager.handle_request(scope, receive, send)


def mount_mcp(app: FastAPI, verifier: KeyVerifier = open_access, allowed_hosts: Sequence[str] = ()) -> McpEndpoint:
    """Serve MCP at /mcp on `app.state.engine`; the caller's lifespan must enter `.running()`."""
    endpoint = McpEndpoint(lambda: app.state.engine, verifier, allowed_hosts)
    app.router.routes.append(Route("/mcp", endpoint=endpoint))
    return endpoint
