"""MCP servers' tools in an agent: a real SDK-written server over stdio (a subprocess) and streamable HTTP.

The model is the offline one (scripted tool calls); every request it gets is checked against the hosted API's
rules. Sync runs go through ``agent.run`` in a worker thread, async runs through ``agent.arun`` (the ``h``
fixture runs each test both ways).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient, ToolError, tool
from mistral_agents.agent import FinalResult, ToolResultEvent
from mistral_agents.mcp import MCPServerError, MCPServerHTTP, MCPServerSSE, MCPServerStdio, MCPToolError
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import PreparedCall, ToolDefinitionError

from ..agent.helpers import MODEL, Harness
from .conftest import TOOLBOX, start_http, stop

Server = MCPServerStdio | MCPServerHTTP


def agent_on(h: Harness, model: OfflineModel, tools: list[Any], **options: Any) -> Agent[Any]:
    """An agent that is not closed by the harness (closing it would close a shared server)."""
    return Agent(MODEL, tools, client=h.client(model), **options)


def names(request: dict[str, Any]) -> list[str]:
    return [t["function"]["name"] for t in request.get("tools", [])]


@tool
def local_note(text: str) -> str:
    """Take a note.

    Args:
        text: The note.
    """
    return f"noted: {text}"


async def test_tools_are_listed_and_called_beside_local_tools(h: Harness, shared: Server) -> None:
    model = OfflineModel(script=[Reply.tool_call("add", {"a": 2, "b": 3}), "2 + 3 = 5."])
    result = await h.run(agent_on(h, model, [local_note, shared]))
    assert result.output == "2 + 3 = 5."
    assert [(c.name, c.content, c.ok) for c in result.tool_calls] == [("add", "5", True)]
    sent = model.chat_requests[0]["tools"]
    assert names(model.chat_requests[0])[:3] == ["local_note", "add", "pid"]
    add_spec = next(t for t in sent if t["function"]["name"] == "add")["function"]
    assert add_spec["description"] == "Add two integers."
    assert add_spec["parameters"]["properties"] == {
        "a": {"title": "A", "type": "integer"},
        "b": {"title": "B", "type": "integer"},
    }
    assert add_spec["parameters"]["required"] == ["a", "b"]
    assert model.rejections == []


async def test_streaming_runs_call_mcp_tools(h: Harness, shared: Server) -> None:
    model = OfflineModel(script=[Reply.tool_call("add", {"a": 40, "b": 2}), "It is 42."])
    events = await h.stream(agent_on(h, model, [shared]))
    results = [e.outcome.content for e in events if isinstance(e, ToolResultEvent)]
    assert results == ["42"]
    assert isinstance(events[-1], FinalResult)
    assert events[-1].result.output == "It is 42."


async def test_results_become_text_json_or_placeholders(h: Harness, shared: Server) -> None:
    model = OfflineModel(script=[Reply.tool_calls([("report", {}), ("chart", {})]), "Done."])
    result = await h.run(agent_on(h, model, [shared]))
    report, chart = (c.content for c in result.tool_calls)
    assert report == '{"open":3,"closed":5}'  # structured content only: as JSON
    assert chart == "[image: image/png, 9 bytes, not shown]\nthe notes\n[resource link: file:///big.csv (text/csv)]"


async def test_server_errors_are_tool_errors_the_model_sees(h: Harness, shared: Server) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_calls([("refuse", {"reason": "the ledger is closed"}), ("boom", {})]),
            Reply.tool_call("add", {"a": "two", "c": 1}),
            "Sorry.",
        ]
    )
    result = await h.run(agent_on(h, model, [shared], max_tool_errors=3))
    refuse, boom, add = result.tool_calls
    assert refuse.error_kind == "tool_exception" and "the ledger is closed" in refuse.content
    assert boom.error_kind == "tool_exception" and "Error executing tool boom" in boom.content
    assert "an internal detail" not in boom.content  # the server keeps its internals
    # checked against the server's input schema before it is sent: the model learns what to fix
    assert add.error_kind == "invalid_arguments"
    assert "'a': 'two' is not of type 'integer'" in add.content and "'b' is a required property" in add.content
    tool_messages = [m for m in model.chat_requests[1]["messages"] if m["role"] == "tool"]
    assert [m["content"] for m in tool_messages] == [refuse.content, boom.content]


async def test_error_results_count_against_max_tool_errors(h: Harness, shared: Server) -> None:
    model = OfflineModel(script=[Reply.tool_calls([("refuse", {"reason": "no"}), ("refuse", {"reason": "no"})])])
    with pytest.raises(ToolError, match="too many failed tool calls"):
        await h.run(agent_on(h, model, [shared], max_tool_errors=1))


async def test_invalid_names_are_cleaned_and_prefix_and_filter_apply(h: Harness, toolbox_url: str) -> None:
    boxed = MCPServerHTTP(toolbox_url, prefix="box", tool_filter={"add", "weather.get"})
    model = OfflineModel(
        script=[Reply.tool_calls([("box_add", {"a": 1, "b": 1}), ("box_weather_get", {"city": "Paris"})]), "Ok."]
    )
    try:
        result = await h.run(agent_on(h, model, [boxed]))
    finally:
        await boxed.aclose()
    assert names(model.chat_requests[0]) == ["box_add", "box_weather_get"]
    assert [c.content for c in result.tool_calls] == ["2", "sunny in Paris"]
    assert model.rejections == []


async def test_a_name_clash_without_prefix_is_a_clear_error(h: Harness, toolbox_url: str) -> None:
    @tool
    def add(a: int, b: int) -> int:
        """Add locally."""
        return a + b

    server = MCPServerHTTP(toolbox_url)
    model = OfflineModel(script=["never asked"])
    try:
        with pytest.raises(ToolDefinitionError, match=r"'add' from MCPServerHTTP\('http://127.0.0.1:\d+/mcp'\)"):
            await h.run(agent_on(h, model, [add, server]))
    finally:
        await server.aclose()
    assert model.chat_requests == []


async def test_requires_approval_asks_the_approver(h: Harness, toolbox_url: str) -> None:
    asked: list[str] = []

    def approver(call: PreparedCall) -> bool | str:
        asked.append(call.name)
        return "not today"

    server = MCPServerHTTP(toolbox_url, requires_approval={"add"})
    model = OfflineModel(script=[Reply.tool_calls([("add", {"a": 1, "b": 2}), ("pid", {})]), "Ok."])
    try:
        result = await h.run(agent_on(h, model, [server], approver=approver))
    finally:
        await server.aclose()
    assert asked == ["add"]
    add, pid = result.tool_calls
    assert add.error_kind == "denied" and "not today" in add.content
    assert pid.ok


async def test_a_changed_tool_list_is_used_at_the_next_step(h: Harness) -> None:
    server = MCPServerStdio(sys.executable, [TOOLBOX])  # its own process: `grow` changes the server
    model = OfflineModel(script=[Reply.tool_call("grow"), Reply.tool_call("hello"), "Hi."])
    try:
        result = await h.run(agent_on(h, model, [server]))
    finally:
        await server.aclose()
    assert [c.content for c in result.tool_calls] == ["grown", "hello!"]
    assert "hello" not in names(model.chat_requests[0])
    assert "hello" in names(model.chat_requests[1])


async def test_handshake_era_list_changed_notifications_are_honoured() -> None:
    server = MCPServerStdio(sys.executable, [TOOLBOX])
    server._mode = "legacy"  # pin the initialize handshake: changes arrive as notifications/tools/list_changed
    try:
        assert "hello" not in [t.name for t in await server.alist_tools()]
        grow = next(t for t in await server.alist_tools() if t.name == "grow")
        assert await grow.call({}) == "grown"
        for _ in range(100):  # the notification races the call's response
            if "hello" in [t.name for t in await server.alist_tools()]:
                break
            await asyncio.sleep(0.02)
        assert "hello" in [t.name for t in await server.alist_tools()]
    finally:
        await server.aclose()


def _pid_of(content: str) -> int:
    return int(content)


async def test_a_killed_server_is_a_tool_error_and_the_next_call_restarts_it(h: Harness) -> None:
    @tool
    def kill_server(pid: int) -> str:
        """Kill the MCP server process."""
        os.kill(pid, signal.SIGKILL)
        return "killed"

    def policy(request: dict[str, Any]) -> Reply | str:
        results = [m["content"] for m in request["messages"] if m["role"] == "tool"]
        steps: list[Reply | str] = [
            Reply.tool_call("pid"),
            Reply.tool_call("kill_server", {"pid": _pid_of(results[0]) if results else 0}),
            Reply.tool_call("add", {"a": 1, "b": 1}),
            Reply.tool_call("pid"),
            "Back.",
        ]
        return steps[len(results)]

    server = MCPServerStdio(sys.executable, [TOOLBOX])
    model = OfflineModel(policy=policy)
    try:
        result = await h.run(agent_on(h, model, [kill_server, server], max_tool_errors=1))
    finally:
        await server.aclose()
    first, killed, failed, second = result.tool_calls
    assert killed.content == "killed"
    assert failed.error_kind == "tool_exception" and "closed the connection" in failed.content
    assert second.ok and _pid_of(second.content) != _pid_of(first.content)
    assert result.output == "Back."


async def test_a_slow_call_times_out_and_the_server_stays_usable(h: Harness, toolbox_url: str) -> None:
    server = MCPServerHTTP(toolbox_url, timeout=0.5)
    model = OfflineModel(
        script=[Reply.tool_call("nap", {"seconds": 30}), Reply.tool_call("add", {"a": 1, "b": 2}), "Ok."]
    )
    try:
        result = await h.run(agent_on(h, model, [server]))
    finally:
        await server.aclose()
    nap, add = result.tool_calls
    assert nap.error_kind == "timeout" and "did not finish" in nap.content
    assert add.content == "3"


async def test_a_hung_server_is_restarted_at_the_next_call() -> None:
    server = MCPServerStdio(sys.executable, [TOOLBOX], timeout=1)
    model = OfflineModel(
        script=[Reply.tool_call("pid"), Reply.tool_call("freeze", {"seconds": 60}), Reply.tool_call("pid"), "Ok."]
    )
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport())
    async with client, Agent(MODEL, [server], client=client) as agent:
        result = await agent.arun("Hi")
    first, frozen, second = result.tool_calls
    assert frozen.error_kind == "timeout"
    assert second.ok and _pid_of(second.content) != _pid_of(first.content)


async def test_fifty_concurrent_runs_share_one_server(shared: Server) -> None:
    def policy(request: dict[str, Any]) -> Reply | str:
        messages = request["messages"]
        if messages[-1]["role"] == "user":
            return Reply.tool_call("nap", {"seconds": 0.3, "tag": messages[-1]["content"]})
        return messages[-1]["content"]

    model = OfflineModel(policy=policy)
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport())
    agent = Agent(MODEL, [shared], client=client)
    async with client:
        results = await asyncio.gather(*(agent.arun(f"user-{n}") for n in range(50)))
    naps = [json.loads(r.output) for r in results]
    assert [n["tag"] for n in naps] == [f"user-{n}" for n in range(50)]  # every run got its own answer
    spans = sorted((n["start"], n["end"]) for n in naps)
    overlapping = max(sum(1 for s, e in spans if s <= start < e) for start, _ in spans)
    assert overlapping >= 10  # the calls ran at the same time on the server, not one after another


def test_the_server_stops_with_the_agent_and_restarts_on_next_use() -> None:
    model = OfflineModel(script=[Reply.tool_call("pid"), "Ok.", Reply.tool_call("pid"), "Ok."])
    server = MCPServerStdio(sys.executable, [TOOLBOX])
    with MistralClient(endpoint="http://offline", transport=model.transport()) as client:
        agent = Agent(MODEL, [server], client=client)
        with agent:
            first = _pid_of(agent.run("Hi").tool_calls[0].content)
        with pytest.raises(ProcessLookupError):
            os.kill(first, 0)  # the process ended (and was reaped) when the agent closed
        with agent:
            second = _pid_of(agent.run("Again").tool_calls[0].content)
    assert second != first


async def test_a_server_that_cannot_start_is_a_clear_error(h: Harness) -> None:
    server = MCPServerStdio(sys.executable, ["-c", "import sys; sys.exit(1)"])
    model = OfflineModel(script=["never asked"])
    with pytest.raises(MCPServerError, match=r"MCPServerStdio\(.*\) could not be started"):
        await h.run(agent_on(h, model, [server]))
    await server.aclose()


async def test_an_http_server_that_refuses_is_a_clear_error(h: Harness) -> None:
    from .conftest import free_port

    server = MCPServerHTTP(f"http://127.0.0.1:{free_port()}/mcp", connect_timeout=10)
    model = OfflineModel(script=["never asked"])
    with pytest.raises(MCPServerError, match=r"MCPServerHTTP\('http://127.0.0.1:\d+/mcp'\) could not be started"):
        await h.run(agent_on(h, model, [server]))
    await server.aclose()


def test_reprs_hide_credentials() -> None:
    server = MCPServerHTTP("https://user:secret@mcp.example.com/mcp?token=abc", headers={"Authorization": "Bearer s3"})
    assert repr(server) == "MCPServerHTTP('https://mcp.example.com/mcp')"  # no userinfo, no query, no headers
    assert (
        repr(MCPServerStdio("python", ["server.py"], env={"API_KEY": "k3y"}))
        == "MCPServerStdio('python', ['server.py'])"
    )


def test_import_mistral_agents_does_not_import_mcp() -> None:
    code = "import sys, mistral_agents; from mistral_agents import Agent; print('mcp' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_closing_the_server_ends_a_call_in_flight(toolbox_url: str) -> None:
    server = MCPServerHTTP(toolbox_url)
    nap = next(t for t in server.list_tools() if t.name == "nap")
    started = threading.Event()
    original = server._call_here

    async def marked(name: str, arguments: dict[str, Any]) -> Any:
        started.set()
        return await original(name, arguments)

    server._call_here = marked  # type: ignore[method-assign]

    async def call() -> Any:
        return await nap.call({"seconds": 60})

    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(asyncio.run, call())
        assert started.wait(30)
        server.close()
        with pytest.raises((asyncio.CancelledError, MCPToolError)):
            future.result(timeout=30)  # not the nap's 60 seconds, nor forever


async def test_the_older_sse_transport_works_too(h: Harness) -> None:
    process, url = start_http(sys.executable, TOOLBOX, "--sse")
    server = MCPServerSSE(url.removesuffix("/mcp") + "/sse")
    model = OfflineModel(script=[Reply.tool_call("add", {"a": 20, "b": 22}), "42."])
    try:
        result = await h.run(agent_on(h, model, [server]))
    finally:
        await server.aclose()
        stop(process)
    assert [c.content for c in result.tool_calls] == ["42"]
    assert repr(server).startswith("MCPServerSSE('http://127.0.0.1:")
