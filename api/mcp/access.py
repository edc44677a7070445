"""Who may call which MCP tool: the auth hook and its per-call enforcement.

The hook is a `KeyVerifier`: given the credential a caller sent (or None), it returns the caller's
effective scopes, or None when the credential is missing or unknown. Over HTTP every request is
checked twice: at the door (`api/mcp/http.py` answers 401 when the verifier returns None) and at
each tool or resource (its declared scope must be among the caller's). Over stdio the server is a
local child process of the assistant that started it, so it is trusted with every scope
(`Access(None)`).

Until API keys land (issue 6) the HTTP service runs `open_access`, like the rest of the HTTP API.
Plugging the key store in is one line: pass `verifier=lambda key: <store>.scopes_for(key)` (or any
function of that shape) where `create_app` mounts MCP. If `admin` implies the other scopes, the
verifier returns the expanded set.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

Scope = Literal["read", "ingest", "admin"]
ALL_SCOPES: frozenset[str] = frozenset({"read", "ingest", "admin"})
KeyVerifier = Callable[[str | None], frozenset[str] | None]


class AccessDenied(Exception):
    """The caller lacks a credential or the scope a tool needs."""


def open_access(_key: str | None) -> frozenset[str]:
    """Every caller gets every scope: the HTTP API's behaviour while no API keys exist."""
    return ALL_SCOPES


def credential(headers: Mapping[str, str] | None) -> str | None:
    """The API key a request carries: `Authorization: Bearer <key>` or `X-API-Key: <key>`."""
    if headers is None:
        return None
    authorization = headers.get("authorization", "")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    key = headers.get("x-api-key", "").strip()
    return key or None


class Access:
    """The scope policy of one MCP server: `verifier=None` means a trusted local transport (stdio)."""

    def __init__(self, verifier: KeyVerifier | None):
        self.verifier = verifier

    def scopes(self, headers: Mapping[str, str] | None) -> frozenset[str] | None:
        """The caller's scopes for a request with these headers (None: not authenticated)."""
        if self.verifier is None:
            return ALL_SCOPES
        return self.verifier(credential(headers))

    def require(self, headers: Mapping[str, str] | None, scope: Scope, what: str) -> None:
        """Raise AccessDenied unless the caller holds `scope`; `what` names the tool or resource."""
        granted = self.scopes(headers)
        if granted is None:
            raise AccessDenied(f"{what} needs an API key with the '{scope}' scope "
                               "(send it as 'Authorization: Bearer <key>')")
        if scope not in granted:
            raise AccessDenied(f"{what} needs the '{scope}' scope; this API key has "
                               f"{', '.join(sorted(granted)) or 'no scopes'}")
