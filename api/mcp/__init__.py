"""The MCP face of hypercorr: tools and resources over the Engine, served over stdio and HTTP."""
from api.mcp.access import ALL_SCOPES, KeyVerifier, open_access
from api.mcp.server import TOOL_MODULES, build_server

__all__ = ["ALL_SCOPES", "KeyVerifier", "TOOL_MODULES", "build_server", "open_access"]
