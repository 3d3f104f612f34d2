"""Run by test_context.py in its own interpreter: an agent with an MCP server's tools, traced with the *global*
providers (the MCP SDK traces its requests there); prints the finished spans as JSON."""

from __future__ import annotations

import asyncio
import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from mistral_agents import Agent, MistralAsyncClient, MistralClient
from mistral_agents.mcp import MCPServerStdio
from mistral_agents.testing import OfflineModel, Reply

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
toolbox = sys.argv[1]
model = OfflineModel(script=[Reply.tool_call("add", {"a": 1, "b": 2}), "3"] * 2)
with MCPServerStdio(sys.executable, [toolbox], timeout=10) as server:
    client = MistralClient(endpoint="http://offline", transport=model.transport())
    agent = Agent("mistral-large-latest", [server], client=client, instrument=True)
    assert agent.run("add").output == "3"

    async def main() -> None:
        aclient = MistralAsyncClient(endpoint="http://offline", transport=model.transport())
        async with aclient:
            aagent = Agent("mistral-large-latest", [server], client=aclient, instrument=True)
            assert (await aagent.arun("add")).output == "3"

    asyncio.run(main())
print(
    json.dumps(
        [
            {"name": s.name, "id": s.context.span_id, "parent": s.parent.span_id if s.parent else None}
            for s in exporter.get_finished_spans()
        ]
    )
)
