"""Serve ``@tool`` functions as an MCP server (``mistral-agents mcp serve tools.py [--http --port N]``).

The tools keep their specs exactly: each MCP tool's name, description and ``inputSchema`` are the tool's
``name``, ``description`` and ``parameters``, as sent to the Mistral API. Calls are validated and run the way an
agent runs them; a bad argument or an exception in the tool is an ``isError`` result whose text says what went
wrong (the same text the model would read from an agent). Over stdio by default; with ``--http``, streamable
HTTP on 127.0.0.1 (``/mcp``).
"""

from __future__ import annotations

import asyncio
import socket
import sys
from collections.abc import Iterable
from typing import Any

import anyio
import mcp.types as mcp_types
import pydantic_core
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from ..models.chat_completion import FunctionCall, ToolCall
from ..tools import Tool, ToolRegistry

__all__ = ["build_server", "serve_http", "serve_stdio"]


def build_server(tools: Iterable[Tool[..., Any]], name: str = "mistral-agents") -> Server[Any]:
    """An MCP server (the SDK's low-level ``Server``) offering ``tools`` with their exact specs."""
    registry = ToolRegistry(tools)
    listing = [
        mcp_types.Tool(name=t.name, description=t.description, input_schema=t.parameters) for t in registry.values()
    ]

    async def list_tools(
        ctx: ServerRequestContext[Any], params: mcp_types.PaginatedRequestParams | None
    ) -> mcp_types.ListToolsResult:
        return mcp_types.ListToolsResult(tools=listing)

    async def call_tool(ctx: ServerRequestContext[Any], params: mcp_types.CallToolRequestParams) -> Any:
        arguments = pydantic_core.to_json(params.arguments or {}).decode()
        call = ToolCall(id="mcpcall00", function=FunctionCall(name=params.name, arguments=arguments))
        found = registry.get(params.name)
        if found is not None and found.timeout is not None:
            try:
                outcome = await asyncio.wait_for(registry.aexecute(call), found.timeout)
            except asyncio.TimeoutError:
                message = f"Error: tool '{params.name}' did not finish within {found.timeout:g} seconds."
                return mcp_types.CallToolResult(content=[mcp_types.TextContent(text=message)], is_error=True)
        else:
            outcome = await registry.aexecute(call)
        return mcp_types.CallToolResult(content=[mcp_types.TextContent(text=outcome.content)], is_error=not outcome.ok)

    def input_schema(tool_name: str) -> dict[str, Any] | None:
        found = registry.get(tool_name)
        return None if found is None else found.parameters

    return Server(name, get_tool_input_schema=input_schema, on_list_tools=list_tools, on_call_tool=call_tool)


def serve_stdio(server: Server[Any]) -> None:
    """Serve over stdin/stdout until stdin closes."""
    from mcp.server.stdio import stdio_server

    async def run() -> None:
        async with stdio_server() as (read_stream, write_stream):
            await server.run(read_stream, write_stream, server.create_initialization_options())

    anyio.run(run)


def serve_http(server: Server[Any], port: int = 8000, *, announce: bool = True) -> None:
    """Serve streamable HTTP at ``http://127.0.0.1:PORT/mcp`` (port 0: a free port, printed on stderr)."""
    import uvicorn

    app = server.streamable_http_app(host="127.0.0.1")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    if announce:
        print(f"serving MCP on http://127.0.0.1:{listener.getsockname()[1]}/mcp", file=sys.stderr, flush=True)
    config = uvicorn.Config(app, log_level="warning", lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))
