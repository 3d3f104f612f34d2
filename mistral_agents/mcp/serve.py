"""Serve ``@tool`` functions as an MCP server: ``mistral-agents mcp serve tools.py [--http --port N]``.

The tools keep their specs exactly: each MCP tool's name, description and ``inputSchema`` are the tool's
``name``, ``description`` and ``parameters``, as sent to the Mistral API. Calls are validated and run the way an
agent runs them; a bad argument or an exception in the tool is an ``isError`` result whose text says what went
wrong (the same text the model would read from an agent). Over stdio by default; with ``--http``, streamable
HTTP on 127.0.0.1 (``/mcp``).
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import socket
import sys
from collections.abc import Iterable, Sequence
from typing import Any

import anyio
import mcp.types as mcp_types
import pydantic_core
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server

from ..models.chat_completion import FunctionCall, ToolCall
from ..tools import Tool, ToolRegistry
from ._servers import MCPServerHTTP, MCPServerStdio

__all__ = ["build_server", "main", "serve_http", "serve_stdio", "server_for"]


def server_for(spec: str) -> MCPServerStdio | MCPServerHTTP:
    """``--mcp`` of ``mistral-agents chat``: an ``http(s)://`` URL, or a command line such as ``python server.py``."""
    if spec.startswith(("http://", "https://")):
        return MCPServerHTTP(spec)
    words = shlex.split(spec)
    if not words:
        raise ValueError("--mcp needs a command (e.g. 'python server.py') or a URL")
    return MCPServerStdio(words[0], words[1:])


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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``mcp`` command's arguments (``mistral-agents mcp serve ...``)."""
    commands = parser.add_subparsers(dest="mcp_command", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve a module's @tool functions as an MCP server (stdio, or streamable HTTP with --http)",
        description="Serve every @tool found in a module as an MCP server: over stdin/stdout by default, or over "
        "streamable HTTP at http://127.0.0.1:PORT/mcp with --http.",
    )
    serve.add_argument("module", metavar="PATH_OR_MODULE", help="a .py file or a dotted module name")
    serve.add_argument("--http", action="store_true", help="serve streamable HTTP on 127.0.0.1 instead of stdio")
    serve.add_argument("--port", type=int, default=8000, help="the HTTP port (default: 8000; 0 picks a free one)")
    serve.add_argument("--name", default=None, help="the server name announced to clients (default: the module's)")


def run(options: argparse.Namespace) -> int:
    """Run ``mistral-agents mcp serve`` with parsed ``options``; problems are a ``CliError``."""
    from .._cli_support import CliError, find_tools, load_module
    from ..tools import ToolDefinitionError

    module = load_module(options.module)
    try:
        server = build_server(find_tools(module), options.name or module.__name__)
    except ToolDefinitionError as error:
        raise CliError(str(error)) from None
    if options.http:
        if not 0 <= options.port <= 65535:
            raise CliError("--port must be between 0 and 65535")
        try:
            serve_http(server, options.port)
        except OSError as error:
            raise CliError(f"cannot listen on 127.0.0.1:{options.port}: {error.strerror or error}") from None
    else:
        serve_stdio(server)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mistral_agents.mcp.serve serve tools.py``: the same as ``mistral-agents mcp serve tools.py``."""
    from .._cli_support import CliError

    parser = argparse.ArgumentParser(prog="mistral-agents mcp")
    add_arguments(parser)
    options = parser.parse_args(argv)
    try:
        return run(options)
    except CliError as error:
        print(f"mistral-agents: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
