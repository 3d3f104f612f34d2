"""The ``mcp`` command (``mistral-agents mcp serve ...``) and ``chat --mcp``; the MCP SDK is imported when used."""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._servers import MCPServerHTTP, MCPServerStdio

__all__ = ["configure", "main", "run", "server_for"]


def configure(parser: argparse.ArgumentParser) -> None:
    """The arguments of ``mistral-agents mcp``."""
    commands = parser.add_subparsers(dest="mcp_command", metavar="SUBCOMMAND", required=True)
    serve = commands.add_parser(
        "serve",
        help="serve a module's @tool functions as an MCP server (stdio, or streamable HTTP with --http)",
        description="Serve every @tool found in a module as an MCP server: over stdin/stdout by default, or over "
        "streamable HTTP at http://127.0.0.1:PORT/mcp with --http. Needs the mcp extra.",
    )
    serve.add_argument("module", metavar="PATH_OR_MODULE", help="a .py file or a dotted module name")
    serve.add_argument("--http", action="store_true", help="serve streamable HTTP on 127.0.0.1 instead of stdio")
    serve.add_argument("--port", type=int, default=8000, help="the HTTP port (default: 8000; 0 picks a free one)")
    serve.add_argument("--name", default=None, help="the server name announced to clients (default: the module's)")


def run(options: argparse.Namespace) -> int:
    """Run ``mistral-agents mcp serve`` with parsed ``options``; problems are a ``CliError``."""
    from .._cli_support import CliError, find_tools, load_module
    from ..tools import ToolDefinitionError

    try:
        from .serve import build_server, serve_http, serve_stdio
    except ImportError as error:
        raise CliError(str(error)) from None
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


def server_for(spec: str) -> MCPServerStdio | MCPServerHTTP:
    """``chat --mcp``: an ``http(s)://`` URL, or a command line such as ``python server.py``."""
    from . import MCPServerHTTP, MCPServerStdio

    if spec.startswith(("http://", "https://")):
        return MCPServerHTTP(spec)
    words = shlex.split(spec)
    if not words:
        raise ValueError("--mcp needs a command (e.g. 'python server.py') or a URL")
    return MCPServerStdio(words[0], words[1:])


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m mistral_agents.mcp serve tools.py``: the same as ``mistral-agents mcp serve tools.py``."""
    from .._cli_support import CliError

    parser = argparse.ArgumentParser(prog="python -m mistral_agents.mcp")
    configure(parser)
    options = parser.parse_args(argv)
    try:
        return run(options)
    except CliError as error:
        print(f"mistral-agents: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
