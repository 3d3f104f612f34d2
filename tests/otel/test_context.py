"""Context: spans a tool opens nest under its ``execute_tool`` span; a run nests under its caller's span."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from mistral_agents import Agent, MistralAsyncClient, tool
from mistral_agents.testing import OfflineModel, Reply
from tests.agent.helpers import MODEL, Harness
from tests.otel.conftest import Telemetry


def by_id(spans: list[ReadableSpan]) -> dict[int, ReadableSpan]:
    return {span.context.span_id: span for span in spans}


def parent(span: ReadableSpan, index: dict[int, ReadableSpan]) -> ReadableSpan:
    assert span.parent is not None, f"{span.name} has no parent"
    return index[span.parent.span_id]


async def test_spans_a_tool_opens_are_children_of_its_execute_tool_span(h: Harness, telemetry: Telemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("tests")

    @tool
    def lookup(key: str) -> str:
        """A sync tool (inline alone, in the thread pool when called with others)."""
        with tracer.start_as_current_span(f"db {key}"):
            return key

    @tool
    async def fetch(key: str) -> str:
        """An async tool."""
        with tracer.start_as_current_span(f"http {key}"):
            await asyncio.sleep(0)
            return key

    model = OfflineModel(
        script=[
            Reply.tool_call("lookup", {"key": "alone"}),
            Reply.tool_calls([("lookup", {"key": "p1"}), ("lookup", {"key": "p2"}), ("fetch", {"key": "a1"})]),
            "done",
        ]
    )
    agent = h.agent(model, [lookup, fetch], instrument=telemetry.settings())
    with tracer.start_as_current_span("request") as request:
        await h.run(agent, "go")

    spans = telemetry.spans()
    index = by_id(spans)
    (run,) = telemetry.named("invoke_agent")
    assert parent(run, index).name == "request" and run.context.trace_id == request.get_span_context().trace_id
    inner = [s for s in spans if s.name.startswith(("db ", "http "))]
    assert sorted(s.name for s in inner) == ["db alone", "db p1", "db p2", "http a1"]
    for span in inner:
        owner = parent(span, index)
        assert owner.name == f"execute_tool {'lookup' if span.name.startswith('db') else 'fetch'}"
        assert (owner.start_time or 0) <= (span.start_time or 0) and (span.end_time or 0) <= (owner.end_time or 0)
        assert parent(owner, index) is run
    # one tool span per call, each the parent of the span its own call opened
    owners = [parent(span, index).context.span_id for span in inner]
    assert len(set(owners)) == 4


async def test_a_hundred_concurrent_runs_never_cross_parents(telemetry: Telemetry) -> None:
    tracer = telemetry.tracer_provider.get_tracer("tests")

    @tool
    async def echo(n: int) -> str:
        """Echo n."""
        await asyncio.sleep(0.001 * (n % 7))
        with tracer.start_as_current_span("inner", attributes={"n": n}):
            await asyncio.sleep(0)
        return str(n)

    def policy(body: dict[str, Any]) -> Reply | str:
        last = body["messages"][-1]
        if last["role"] == "user":
            return Reply.tool_call("echo", {"n": int(last["content"])})
        return f"done {last['content']}"

    model = OfflineModel(policy=policy)
    async with MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0) as client:
        agent = Agent(MODEL, [echo], client=client, name="echo", instrument=telemetry.settings())

        async def one(n: int) -> str:
            with tracer.start_as_current_span("request", attributes={"n": n}):
                return (await agent.arun(str(n))).output

        outputs = await asyncio.gather(*(one(n) for n in range(100)))
        await agent.aclose()
    assert outputs == [f"done {n}" for n in range(100)]

    spans = telemetry.spans()
    index = by_id(spans)
    assert len(spans) == 100 * 6
    traces: dict[int, list[ReadableSpan]] = {}
    for span in spans:
        traces.setdefault(span.context.trace_id, []).append(span)
    assert len(traces) == 100
    expected = sorted(["request", "invoke_agent echo", f"chat {MODEL}", f"chat {MODEL}", "execute_tool echo", "inner"])
    for members in traces.values():
        assert sorted(s.name for s in members) == expected
    for inner in (s for s in spans if s.name == "inner"):
        tool_span = parent(inner, index)
        run = parent(tool_span, index)
        request = parent(run, index)
        assert (tool_span.name, run.name, request.name) == ("execute_tool echo", "invoke_agent echo", "request")
        assert request.attributes is not None and inner.attributes is not None
        assert inner.attributes["n"] == request.attributes["n"]
    for chat in telemetry.named("chat"):
        assert parent(chat, index).name == "invoke_agent echo"


def test_an_mcp_servers_requests_nest_under_the_execute_tool_span_that_made_them() -> None:
    pytest.importorskip("mcp")
    here = Path(__file__).resolve().parent
    done = subprocess.run(
        [sys.executable, str(here / "mcp_traced_run.py"), str(here.parent / "mcp" / "toolbox_server.py")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    names = {span["id"]: span["name"] for span in spans}
    calls = [span for span in spans if span["name"] == "MCP send tools/call add"]
    assert len(calls) == 2  # one sync run, one async run
    assert [names[span["parent"]] for span in calls] == ["execute_tool add", "execute_tool add"]
    tool_spans = [span for span in spans if span["name"] == "execute_tool add"]
    assert all(names[span["parent"]] == "invoke_agent" for span in tool_spans)
