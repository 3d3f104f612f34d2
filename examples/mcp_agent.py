"""An agent whose tools come from an MCP server: the payment-status tools, served over MCP by our own CLI.

    python examples/mcp_agent.py          # offline model, unless MISTRAL_API_KEY is set

The server is started as a subprocess on first use (``python -m mistral_agents.mcp serve ...`` is the same as
``mistral-agents mcp serve ...``) and stops when the agent closes. Any MCP server works the same way, e.g.
``MCPServerStdio("npx", ["-y", "@modelcontextprotocol/server-everything"])`` or
``MCPServerHTTP("http://127.0.0.1:8000/mcp")``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from mistral_agents import Agent, MistralClient
from mistral_agents.mcp import MCPServerStdio
from mistral_agents.testing import OfflineModel, Reply

TOOLS = Path(__file__).with_name("mcp_payment_tools.py")


def main() -> int:
    payments = MCPServerStdio(sys.executable, ["-m", "mistral_agents.mcp", "serve", str(TOOLS)])
    if os.environ.get("MISTRAL_API_KEY"):
        client = MistralClient()
    else:  # a scripted stand-in for the model: it asks for the tool, then answers from its result
        model = OfflineModel(
            script=[
                Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1001"}),
                "The status of transaction T1001 is Paid.",
            ]
        )
        client = MistralClient(endpoint="http://offline", transport=model.transport())
    with client, Agent("mistral-large-latest", tools=[payments], client=client) as agent:
        result = agent.run("What's the status of my transaction T1001?")
        for call in result.tool_calls:
            print(f"[MCP] {call.name}({call.arguments}) -> {call.content}")
        print(result.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
