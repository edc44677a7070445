"""`hypercorr mcp`: the MCP server over stdio, on an embedded store in this process.

stdio is the transport an assistant uses when it starts hypercorr itself: the server is a child of
that assistant on the same machine, so it is trusted with every scope (no API key is asked). Its
stdout carries the protocol; logs and messages go to stderr.
"""
from __future__ import annotations

import contextlib
import logging
import sys
from pathlib import Path

from api.mcp.server import build_server
from engine import Engine, Settings
from engine.errors import StoreLockedError, StoreMismatchError


def run_stdio(data_dir: Path) -> int:
    """Serve MCP on stdin/stdout until the client closes it; returns the exit code."""
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        with contextlib.redirect_stdout(sys.stderr):  # nothing but protocol on stdout
            engine = Engine(Settings(data_dir=data_dir))
    except (StoreLockedError, StoreMismatchError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        server, _ = build_server(lambda: engine, verifier=None)
        server.run("stdio")
    finally:
        engine.close()
    return 0
