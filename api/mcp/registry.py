"""Registering hypercorr tools and resources on an MCP server, each with its required scope.

A tool is a plain function with typed (pydantic) arguments, a `ctx: Context` parameter and a
pydantic return type; its docstring is the description the assistant reads. `Registry.tool(scope)`
wraps it so that the scope is checked before the body runs and the engine's anticipated errors
(unknown ids, refused edits, invalid values) come back as a tool error naming the problem instead
of a generic crash message. A function without a Context parameter is refused at start-up, so no
tool can skip the scope check.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ValidationError

from api.mcp.access import Access, AccessDenied, Scope
from engine import Engine
from engine.errors import BatchTooLargeError, ConflictError, NotFoundError
from engine.narratives.editing import EditError

F = TypeVar("F", bound=Callable[..., Any])
_REFUSALS = (AccessDenied, NotFoundError, EditError, ConflictError, BatchTooLargeError, ValidationError)


def refusal_message(exc: Exception) -> str:
    """A one-line reason for the caller; validation errors name the argument, never echo its value."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"invalid argument '{'.'.join(str(p) for p in e['loc'])}': {e['msg']}"
                         for e in exc.errors())
    if isinstance(exc, ConflictError):
        return f"these ids already exist with different content: {', '.join(exc.ids)}"
    return str(exc)


class Registry:
    """Adds tools and resources to `server`, remembering the scope each one needs."""

    def __init__(self, server: MCPServer, engine: Callable[[], Engine], access: Access):
        self.server = server
        self._engine = engine
        self.access = access
        self.tool_scopes: dict[str, Scope] = {}
        self.resource_scopes: dict[str, Scope] = {}

    def engine(self) -> Engine:
        """The engine the server answers from (resolved per call: the HTTP app builds it at start-up)."""
        return self._engine()

    def _guard(self, fn: Callable[..., Any], scope: Scope, what: str,
               refuse: Callable[[Exception], Exception]) -> Callable[..., Any]:
        ctx_name = find_context_parameter(fn)
        if ctx_name is None:
            raise TypeError(f"{fn.__name__} needs a `ctx: Context` parameter so its scope can be checked")

        @functools.wraps(fn)
        def guarded(*args: Any, **kwargs: Any) -> Any:
            try:
                self.access.require(kwargs[ctx_name].headers, scope, what)
                return fn(*args, **kwargs)
            except _REFUSALS as exc:
                raise refuse(exc) from exc

        return guarded

    def tool(self, scope: Scope, *, title: str, read_only: bool = True) -> Callable[[F], F]:
        """Register the decorated function as a tool that needs `scope`."""

        def decorator(fn: F) -> F:
            name = fn.__name__
            guarded = self._guard(fn, scope, f"tool '{name}'", lambda exc: ToolError(refusal_message(exc)))
            annotations = ToolAnnotations(title=title, read_only_hint=read_only, destructive_hint=False,
                                          idempotent_hint=True, open_world_hint=False)
            self.server.add_tool(guarded, name=name, title=title, annotations=annotations)
            self.tool_scopes[name] = scope
            return fn

        return decorator

    def resource(self, uri: str, scope: Scope, *, name: str, description: str) -> Callable[[F], F]:
        """Register the decorated function (returning a pydantic model) as a JSON resource needing `scope`."""

        def refuse(exc: Exception) -> Exception:
            kind = ResourceNotFoundError if isinstance(exc, NotFoundError) else ResourceError
            return kind(refusal_message(exc))

        def decorator(fn: F) -> F:
            guarded = self._guard(fn, scope, f"resource {uri}", refuse)

            @functools.wraps(guarded)
            def as_json(*args: Any, **kwargs: Any) -> str:
                model: BaseModel = guarded(*args, **kwargs)
                return model.model_dump_json()

            self.server.resource(uri, name=name, description=description, mime_type="application/json")(as_json)
            self.resource_scopes[uri] = scope
            return fn

        return decorator
