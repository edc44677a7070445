"""Test helpers: the MCP SDK's own client over streamable HTTP and stdio, driven synchronously."""
from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import httpx2
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

T = TypeVar("T")


@asynccontextmanager
async def http_session(url: str, key: str | None = None) -> AsyncIterator[Client]:
    """An SDK client session on `url` (…/mcp), sending `key` as a bearer token when given."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    async with httpx2.AsyncClient(headers=headers, timeout=120.0, trust_env=False) as http:
        async with Client(streamable_http_client(url, http_client=http), read_timeout_seconds=120.0) as client:
            yield client


@asynccontextmanager
async def stdio_session(params: StdioServerParameters) -> AsyncIterator[Client]:
    """An SDK client session with a server it starts as a subprocess."""
    async with Client(params, read_timeout_seconds=240.0) as client:
        yield client


def run(session: Callable[[], Any], work: Callable[[Client], Awaitable[T]]) -> T:
    """Open a session, run `work(client)` in it, close it; synchronous for pytest."""

    async def main() -> T:
        async with session() as client:
            return await work(client)

    try:
        return asyncio.run(main())
    except BaseExceptionGroup as group:  # the SDK's task groups wrap what the server answered
        raise _first_leaf(group) from group


def _first_leaf(error: BaseException) -> BaseException:
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    return error


def structured(result: Any) -> dict[str, Any]:
    """A successful tool result's structured content (fails the test on a tool error)."""
    assert not result.is_error, result.content
    return result.structured_content


def error_text(result: Any) -> str:
    """A failed tool result's message (fails the test when the call succeeded)."""
    assert result.is_error, result.structured_content
    return " ".join(getattr(block, "text", "") for block in result.content)


def resource_json(result: Any) -> dict[str, Any]:
    """The JSON body of a read resource."""
    (content,) = result.contents
    assert content.mime_type == "application/json"
    return json.loads(content.text)
