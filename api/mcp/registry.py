"""Declaring hypercorr tools and resources for an MCP server, each with its required scope.

A tool is a plain function with typed (pydantic) arguments, a `ctx: Context` parameter and a
pydantic return type; its docstring is the description the assistant reads. `Registry.tool(scope)`
wraps it so that the scope is checked before the body runs and the engine's anticipated errors
(unknown ids, refused edits, invalid values) come back as a tool error naming the problem instead
of a generic crash message; unknown argument names are refused too. A function without a Context
parameter is refused at start-up, so no tool can skip the scope check.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp.server.mcpserver.tools import Tool
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp_types import ToolAnnotations
from pydantic import BaseModel, ConfigDict, ValidationError

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


def _refuse_unknown_arguments(tool: Tool) -> None:
    """A misspelt or misplaced argument is an error rather than silently ignored."""
    arguments = tool.fn_metadata.arg_model
    strict = type(arguments)(arguments.__name__, (arguments,), {
        "model_config": ConfigDict(extra="forbid"), "__module__": arguments.__module__})
    tool.fn_metadata.arg_model = strict
    tool.parameters["additionalProperties"] = False


@dataclass(frozen=True)
class ResourceSpec:
    """A resource template waiting to be added to a server."""

    uri: str
    fn: Callable[..., str]
    name: str
    description: str


class Registry:
    """Collects tools and resources with the scope each one needs; `install` builds them into a server."""

    def __init__(self, engine: Callable[[], Engine], access: Access):
        self._engine = engine
        self.access = access
        self.tools: list[Tool] = []
        self.resources: list[ResourceSpec] = []
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
        """Declare the decorated function a tool that needs `scope`."""

        def decorator(fn: F) -> F:
            name = fn.__name__
            guarded = self._guard(fn, scope, f"tool '{name}'", lambda exc: ToolError(refusal_message(exc)))
            annotations = ToolAnnotations(title=title, read_only_hint=read_only, destructive_hint=False,
                                          idempotent_hint=True, open_world_hint=False)
            tool = Tool.from_function(guarded, name=name, title=title, annotations=annotations)
            _refuse_unknown_arguments(tool)
            self.tools.append(tool)
            self.tool_scopes[name] = scope
            return fn

        return decorator

    def resource(self, uri: str, scope: Scope, *, name: str, description: str) -> Callable[[F], F]:
        """Declare the decorated function (returning a pydantic model) a JSON resource needing `scope`."""

        def refuse(exc: Exception) -> Exception:
            kind = ResourceNotFoundError if isinstance(exc, NotFoundError) else ResourceError
            return kind(refusal_message(exc))

        def decorator(fn: F) -> F:
            guarded = self._guard(fn, scope, f"resource {uri}", refuse)

            @functools.wraps(guarded)
            def as_json(*args: Any, **kwargs: Any) -> str:
                model: BaseModel = guarded(*args, **kwargs)
                return model.model_dump_json()

            self.resources.append(ResourceSpec(uri, as_json, name, description))
            self.resource_scopes[uri] = scope
            return fn

        return decorator

    def install(self, server: MCPServer) -> None:
        """Add the declared resources to `server` (tools are passed to its constructor)."""
        for spec in self.resources:
            server.resource(spec.uri, name=spec.name, description=spec.description,
                            mime_type="application/json")(spec.fn)
