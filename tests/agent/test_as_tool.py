"""agent.as_tool(): an agent another agent calls like a tool — in the caller's flavour, on the caller's client, its
usage added to the caller's and its tool calls visible; nesting past max_depth is a tool error, never a hang."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents import (
    Agent,
    FinalResult,
    MistralClient,
    NestedEvent,
    RunResult,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    UsageLimitExceeded,
    UsageLimits,
)
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import ToolDefinitionError, tool

from .helpers import MODEL, Harness, roles, tool_messages

TOKENS = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}


@tool
def refund_status(refund_id: str) -> str:
    """The status of a refund."""
    return {"R1": "approved"}.get(refund_id, "unknown")


def refunds_agent(**options: Any) -> Agent[Any]:
    """An agent with no client of its own: run as a tool, it uses its caller's."""
    return Agent(MODEL, [refund_status], name="refunds", system_prompt="You handle refunds.", **options)


def team_script() -> list[Reply | str]:
    return [
        Reply.tool_call("refunds", {"input": "Status of refund R1?"}, usage=TOKENS),  # triage asks refunds
        Reply.tool_call("refund_status", {"refund_id": "R1"}, usage=TOKENS),  # refunds looks it up
        Reply.text("Refund R1 is approved.", usage=TOKENS),  # refunds answers triage
        Reply.text("Good news: your refund R1 is approved.", usage=TOKENS),  # triage answers the user
    ]


class Flavours:
    """Records which of the inner agent's run methods the tool used."""

    def __init__(self, agent: Agent[Any]) -> None:
        self.used: list[str] = []
        run, arun = agent.run, agent.arun

        def spy_run(*args: Any, **kwargs: Any) -> Any:
            self.used.append("run")
            return run(*args, **kwargs)

        async def spy_arun(*args: Any, **kwargs: Any) -> Any:
            self.used.append("arun")
            return await arun(*args, **kwargs)

        agent.run, agent.arun = spy_run, spy_arun  # type: ignore[method-assign]


async def test_the_inner_agent_runs_in_the_callers_flavour_on_the_callers_client(h: Harness) -> None:
    model = OfflineModel(script=team_script())
    refunds = refunds_agent()
    flavours = Flavours(refunds)
    triage = h.agent(model, [refunds.as_tool(description="Ask the refunds team.")])

    result = await h.run(triage, "Where is my refund R1?")

    assert result.output == "Good news: your refund R1 is approved."
    assert flavours.used == ["run" if h.mode == "sync" else "arun"]
    inner_first = model.chat_requests[1]
    assert inner_first["messages"][0] == {"role": "system", "content": "You handle refunds."}
    assert inner_first["messages"][1] == {"role": "user", "content": "Status of refund R1?"}
    assert tool_messages(model.chat_requests[3])[0]["content"] == "Refund R1 is approved."
    # usage: the caller's two model calls and the inner agent's two, the caller's tool call and the inner one
    assert (result.usage.total_tokens, result.usage.requests, result.usage.tool_calls) == (48, 4, 2)
    assert result.steps == 2
    (call,) = result.tool_calls
    assert isinstance(call.result, RunResult) and call.result.output == "Refund R1 is approved."
    assert [c.name for c in call.result.tool_calls] == ["refund_status"]
    assert model.rejections == []
    await refunds.aclose()


async def test_a_streaming_caller_sees_the_inner_tool_calls(h: Harness) -> None:
    model = OfflineModel(script=team_script())
    refunds = refunds_agent()
    triage = h.agent(model, [refunds.as_tool()])

    events = await h.stream(triage, "Where is my refund R1?")

    shapes = [
        (type(e).__name__, type(e.event).__name__, e.event.name) if isinstance(e, NestedEvent) else type(e).__name__
        for e in events
        if not isinstance(e, TextDelta)
    ]
    assert shapes == [
        "ToolCallEvent",
        ("NestedEvent", "ToolCallEvent", "refund_status"),
        ("NestedEvent", "ToolResultEvent", "refund_status"),
        "ToolResultEvent",
        "FinalResult",
    ]
    nested = [e for e in events if isinstance(e, NestedEvent)]
    outer_call = next(e for e in events if isinstance(e, ToolCallEvent))
    assert {e.tool_call_id for e in nested} == {outer_call.tool_call_id}
    inner_result = nested[1].event
    assert isinstance(inner_result, ToolResultEvent) and inner_result.outcome.content == "approved"
    assert isinstance(events[-1], FinalResult)
    await refunds.aclose()


def self_calling(tool_name: str) -> OfflineModel:
    """A model that always asks the agent tool again, and answers once the tool answered (even with an error)."""

    def answer(body: dict[str, Any]) -> Reply | str:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return f"done after: {last['content'][:60]}"
        return Reply.tool_call(tool_name, {"input": "again"})

    return OfflineModel(policy=answer)


class Itself:
    """A tool source listing its agent as a tool of itself (set ``tool`` once the agent exists)."""

    def __init__(self) -> None:
        self.tools: list[Any] = []

    def list_tools(self) -> list[Any]:
        return self.tools

    async def alist_tools(self) -> list[Any]:
        return self.tools

    def close(self) -> None:
        pass

    async def aclose(self) -> None:
        pass


@pytest.mark.parametrize("max_depth", [1, 2, 4])
async def test_an_agent_that_is_its_own_tool_ends_at_max_depth(h: Harness, max_depth: int) -> None:
    model = self_calling("echo")
    itself = Itself()
    echo = h.agent(model, [itself], name="echo")
    itself.tools = [echo.as_tool(max_depth=max_depth)]

    result = await h.run(echo, "Go")

    # the run and max_depth nested runs each ask twice; the deepest one's call was refused
    assert len(model.chat_requests) == 2 * (max_depth + 1)
    refused = [m for body in model.chat_requests for m in tool_messages(body) if "max_depth" in m["content"]]
    assert len(refused) == 1
    assert f"already {max_depth} deep (max_depth={max_depth})" in refused[0]["content"]
    assert result.output.startswith("done after:")
    assert result.usage.requests == 2 * (max_depth + 1)
    assert model.rejections == []


async def test_a_chain_of_agents_deeper_than_max_depth_is_cut(h: Harness) -> None:
    model = self_calling("level")
    deepest: Agent[Any] = Agent(MODEL, name="level")
    chain = deepest
    for _ in range(5):
        chain = Agent(MODEL, [chain.as_tool(max_depth=2)], name="level")
    top = h.agent(model, [chain.as_tool(max_depth=2)])

    result = await h.run(top, "Go")

    assert len(model.chat_requests) == 2 * 3  # the top run and two nested ones
    assert result.output.startswith("done after:")


async def test_inner_agents_spend_from_the_callers_budget(h: Harness) -> None:
    model = OfflineModel(script=team_script())
    refunds = refunds_agent()
    triage = h.agent(model, [refunds.as_tool()], usage_limits=UsageLimits(requests=3))

    with pytest.raises(UsageLimitExceeded, match="requests limit of 3") as caught:
        await h.run(triage, "Where is my refund R1?")

    assert len(model.chat_requests) == 3  # triage, refunds twice; triage's answer was never asked for
    assert caught.value.usage.requests == 3
    assert roles(caught.value.messages) == ["user", "assistant", "tool"]
    await refunds.aclose()


async def test_an_inner_agent_over_the_callers_budget_is_a_tool_error_then_the_caller_stops(h: Harness) -> None:
    model = OfflineModel(script=team_script())
    refunds = refunds_agent()
    triage = h.agent(model, [refunds.as_tool()], usage_limits=UsageLimits(requests=2))

    with pytest.raises(UsageLimitExceeded, match="requests limit of 2") as caught:
        await h.run(triage, "Where is my refund R1?")

    assert len(model.chat_requests) == 2  # the inner agent's second request was not sent either
    tool_message = caught.value.messages[-1]
    assert tool_message.role == "tool" and "requests limit of 1" in str(tool_message.content)
    assert caught.value.usage.requests == 2
    await refunds.aclose()


async def test_an_inner_agent_with_its_own_client_keeps_it(h: Harness) -> None:
    outer = OfflineModel(script=[Reply.tool_call("refunds", {"input": "R1?"}), "It is approved."])
    inner = OfflineModel(script=["Approved."])
    refunds = refunds_agent(client=MistralClient(endpoint="http://inner", transport=inner.transport()))
    triage = h.agent(outer, [refunds.as_tool()])

    result = await h.run(triage, "R1?")

    assert result.output == "It is approved."
    assert len(inner.chat_requests) == 1 and len(outer.chat_requests) == 2
    await refunds.aclose()


def test_as_tool_names_and_describes_the_tool() -> None:
    refunds = refunds_agent()
    spec = refunds.as_tool().spec["function"]
    assert spec["name"] == "refunds"
    assert spec["parameters"]["required"] == ["input"]
    assert spec["parameters"]["properties"]["input"]["type"] == "string"
    assert Agent(MODEL, name="Refunds team!").as_tool().name == "Refunds_team"
    assert refunds.as_tool("ask_refunds", "Refund questions.").spec["function"]["description"] == "Refund questions."
    with pytest.raises(ValueError, match="needs a name"):
        Agent(MODEL).as_tool()
    with pytest.raises(ValueError, match="max_depth"):
        refunds.as_tool(max_depth=0)


def test_a_tool_with_an_async_twin_must_pair_sync_with_async() -> None:
    async def twin(x: int) -> int:
        return x

    with pytest.raises(ToolDefinitionError, match="async twin"):
        tool(twin).__class__(twin, async_function=twin)


async def test_parallel_calls_of_an_agent_that_is_its_own_tool_never_wait_on_a_full_pool(h: Harness) -> None:
    def answer(body: dict[str, Any]) -> Reply | str:
        if body["messages"][-1]["role"] == "tool":
            return "done"
        return Reply.tool_calls([("echo", {"input": "a"}), ("echo", {"input": "b"})])

    model = OfflineModel(policy=answer)
    itself = Itself()
    # two tool threads, and every nested run keeps one busy while its own two calls run
    echo = h.agent(model, [itself], name="echo", max_concurrency=2)
    itself.tools = [echo.as_tool(max_depth=3)]

    result = await h.run(echo, "Go")

    assert result.output == "done"
    assert len(model.chat_requests) == 2 * (1 + 2 + 4 + 8)  # every run up to depth 3 asked twice
    assert result.usage.requests == len(model.chat_requests)
    assert result.usage.tool_calls == 2 + 4 + 8 + 16
