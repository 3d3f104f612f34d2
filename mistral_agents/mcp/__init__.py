"""Model Context Protocol: any MCP server's tools in an agent, and ``@tool`` modules served over MCP.

Needs the ``mcp`` extra (``pip install "mistral-agents[mcp]"``), on the official ``mcp`` SDK::

    from mistral_agents.mcp import MCPServerStdio, MCPServerHTTP

    weather = MCPServerStdio("python", ["weather_server.py"])   # or MCPServerHTTP("http://127.0.0.1:8000/mcp")
    agent = Agent("mistral-large-latest", tools=[weather, retrieve_payment_status])
"""

try:
    import mcp as _sdk  # noqa: F401 - only to fail early, with the fix
except ImportError as error:  # pragma: no cover - depends on the installation
    raise ImportError('mistral_agents.mcp needs the official MCP SDK: pip install "mistral-agents[mcp]"') from error

from ._servers import DEFAULT_TIMEOUT, MCPServerError, MCPServerHTTP, MCPServerStdio
from ._tools import MCPTimeoutError, MCPTool, MCPToolError

__all__ = [
    "DEFAULT_TIMEOUT",
    "MCPServerError",
    "MCPServerHTTP",
    "MCPServerStdio",
    "MCPTimeoutError",
    "MCPTool",
    "MCPToolError",
]
