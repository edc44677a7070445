"""The hypercorr MCP server: the same engine and answers as the HTTP API, as MCP tools and resources.

Adding tools: write a module with `register(reg: Registry)` that declares its tools with
`@reg.tool("read" | "ingest" | "admin", title=...)` (and resources with `@reg.resource`), and append
the module to `TOOL_MODULES`. The knowledge-base tools (suggestions for a user: read; knowledge-base
feedback: ingest) go in `api/mcp/tools_kb.py` once the knowledge base is on main.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType

from mcp.server.mcpserver import MCPServer

from api.mcp import tools_narratives, tools_people, tools_reports
from api.mcp.access import Access, KeyVerifier
from api.mcp.registry import Registry
from engine import Engine

TOOL_MODULES: tuple[ModuleType, ...] = (tools_reports, tools_narratives, tools_people)

INSTRUCTIONS = (
    "hypercorr correlates hypercare reports (tickets, survey comments, alerts, deployments). "
    "Use search_reports or related_reports to find what a report relates to and why (evidence); "
    "list_narratives and get_narrative for the problems going on (grouped reports with a timeline); "
    "get_user_context before answering a user; link_feedback only when a person confirms or rejects "
    "that two reports belong together. Times are ISO 8601 with a timezone."
)


def build_server(engine: Callable[[], Engine], verifier: KeyVerifier | None) -> tuple[MCPServer, Registry]:
    """An MCP server answering from `engine()`; `verifier=None` trusts every caller (stdio)."""
    logging.getLogger("mcp").setLevel(logging.WARNING)  # the SDK's INFO lines quote callers' ids and errors
    registry = Registry(engine, Access(verifier))
    for module in TOOL_MODULES:
        module.register(registry)
    server = MCPServer("hypercorr", title="hypercorr", version="0.1.0", instructions=INSTRUCTIONS,
                       tools=registry.tools)
    registry.install(server)
    return server, registry
