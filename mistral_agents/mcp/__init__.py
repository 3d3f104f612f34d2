"""Model Context Protocol: any MCP server's tools in an agent, and ``@tool`` modules served over MCP.

Needs the ``mcp`` extra (``pip install "mistral-agents[mcp]"``), on the official ``mcp`` SDK::

    from mistral_agents.mcp import MCPServerStdio, MCPServerHTTP

    weather = MCPServerStdio("python", ["weather_server.py"])   # or MCPServerHTTP("http://127.0.0.1:8000/mcp")
    agent = Agent("mistral-large-latest", tools=[weather, retrieve_payment_status])

The SDK is imported when one of these names is first used (the command line's parsers stay light).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._servers import DEFAULT_TIMEOUT, MCPServerError, MCPServerHTTP, MCPServerSSE, MCPServerStdio
    from ._tools import MCPTimeoutError, MCPTool, MCPToolError

__all__ = [
    "DEFAULT_TIMEOUT",
    "MCPServerError",
    "MCPServerHTTP",
    "MCPServerSSE",
    "MCPServerStdio",
    "MCPTimeoutError",
    "MCPTool",
    "MCPToolError",
]

_SERVERS = {"DEFAULT_TIMEOUT", "MCPServerError", "MCPServerHTTP", "MCPServerSSE", "MCPServerStdio"}


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        import mcp  # noqa: F401 - the SDK: fail with the fix, not deep inside an import
    except ImportError as error:
        raise ImportError('mistral_agents.mcp needs the official MCP SDK: pip install "mistral-agents[mcp]"') from error
    from . import _servers, _tools

    value = getattr(_servers if name in _SERVERS else _tools, name)
    globals()[name] = value
    return value
