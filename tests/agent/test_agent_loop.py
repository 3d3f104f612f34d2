"""The loop: one call, parallel calls (concurrent, results in call order), forced tool_choice then auto."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import tool

from .helpers import Harness, last_tool_calls, retrieve_payment_date, retrieve_payment_status, roles, tool_messages


async def test_a_single_tool_call_then_the_final_answer(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1001"}),
            "Your payment T1001 is Paid.",
        ]
    )
    agent = h.agent(model, [retrieve_payment_status], system_prompt="You are a payment bot.")

    result = await h.run(agent, "What's the status of T1001?")

    assert result.output == "Your payment T1001 is Paid."
    assert roles(result.messages) == ["system", "user", "assistant", "tool", "assistant"]
    first, second = model.chat_requests
    assert [t["function"]["name"] for t in first["tools"]] == ["retrieve_payment_status"]
    assert first["tool_choice"] == "auto"
    [call] = last_tool_calls(second)
    [answer] = tool_messages(second)
    assert answer == {
        "role": "tool",
        "tool_call_id": call["id"],
        "name": "retrieve_payment_status",
        "content": '{"status":"Paid"}',
    }
    assert model.rejections == []


def sleepers(kind: str, spans: list[tuple[float, float]]) -> list[Any]:
    """Two slow tools that record when they ran (start, end) in ``spans``."""
    if kind == "async":

        @tool
        async def first(n: int) -> int:
            """Slow async work."""
            started = time.perf_counter()
            await asyncio.sleep(0.3)
            spans.append((started, time.perf_counter()))
            return n

        @tool
        async def second(n: int) -> int:
            """Slow async work."""
            started = time.perf_counter()
            await asyncio.sleep(0.3)
            spans.append((started, time.perf_counter()))
            return n * 10
    else:

        @tool
        def first(n: int) -> int:
            """Slow blocking work."""
            started = time.perf_counter()
            time.sleep(0.3)
            spans.append((started, time.perf_counter()))
            return n

        @tool
        def second(n: int) -> int:
            """Slow blocking work."""
            started = time.perf_counter()
            time.sleep(0.3)
            spans.append((started, time.perf_counter()))
            return n * 10

    return [first, second]


@pytest.mark.parametrize("tool_kind", ["async", "sync"])
async def test_parallel_calls_run_concurrently(h: Harness, tool_kind: str) -> None:
    model = OfflineModel(script=[Reply.tool_calls([("first", {"n": 1}), ("second", {"n": 2})]), "done"])
    spans: list[tuple[float, float]] = []
    agent = h.agent(model, sleepers(tool_kind, spans))

    result = await h.run(agent, "go")

    assert max(start for start, _ in spans) < min(end for _, end in spans), f"the calls did not overlap: {spans}"
    assert [(c.name, c.result) for c in result.tool_calls] == [("first", 1), ("second", 20)]
    assert model.rejections == []


async def test_results_are_appended_in_call_order_whatever_order_they_finish_in(h: Harness) -> None:
    finished: list[str] = []

    @tool
    def slow(label: str) -> str:
        """Finishes last."""
        time.sleep(0.2)
        finished.append(label)
        return f"slow:{label}"

    @tool
    async def quick(label: str) -> str:
        """Finishes first."""
        finished.append(label)
        return f"quick:{label}"

    model = OfflineModel(
        script=[
            Reply.tool_calls([("slow", {"label": "a"}), ("quick", {"label": "b"}), ("slow", {"label": "c"})]),
            "ok",
        ]
    )
    agent = h.agent(model, [slow, quick])

    result = await h.run(agent, "go")

    assert finished[0] == "b"  # the quick one really finished first...
    calls = last_tool_calls(model.chat_requests[1])
    results = tool_messages(model.chat_requests[1])
    # ...yet the results follow the order of the calls.
    assert [r["tool_call_id"] for r in results] == [c["id"] for c in calls]
    assert [r["content"] for r in results] == ["slow:a", "quick:b", "slow:c"]
    assert [c.content for c in result.tool_calls] == ["slow:a", "quick:b", "slow:c"]
    assert model.rejections == []


@pytest.mark.parametrize(
    ("choice", "on_the_wire"),
    [
        ("any", "any"),
        ("required", "required"),
        ("retrieve_payment_date", {"type": "function", "function": {"name": "retrieve_payment_date"}}),
        (
            {"type": "function", "function": {"name": "retrieve_payment_date"}},
            {"type": "function", "function": {"name": "retrieve_payment_date"}},
        ),
    ],
)
async def test_a_forced_tool_choice_applies_once_then_auto(h: Harness, choice: Any, on_the_wire: Any) -> None:
    model = OfflineModel()  # the demo policy always calls a tool when forced, and answers from tool results
    agent = h.agent(model, [retrieve_payment_status, retrieve_payment_date], tool_choice=choice)

    result = await h.run(agent, "Tell me about the date of T1001")

    first, second = model.chat_requests
    assert first["tool_choice"] == on_the_wire
    assert second["tool_choice"] == "auto"
    assert [c.name for c in result.tool_calls] == ["retrieve_payment_date"]
    assert result.output == "The date of transaction T1001 is 2021-10-05."
    assert result.steps == 2
    assert model.rejections == []


async def test_a_forced_tool_object_is_sent_by_name(h: Harness) -> None:
    status = tool(retrieve_payment_status)
    model = OfflineModel()
    agent = h.agent(model, [status], tool_choice=status)

    await h.run(agent, "Hello T1001")

    assert [r["tool_choice"] for r in model.chat_requests] == [
        {"type": "function", "function": {"name": "retrieve_payment_status"}},
        "auto",
    ]
    assert model.rejections == []


async def test_tool_choice_none_and_auto_stay_as_given(h: Harness) -> None:
    model = OfflineModel(script=[Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1002"}), "x"])
    agent = h.agent(model, [retrieve_payment_status], tool_choice="auto")
    await h.run(agent, "status of T1002?")
    assert [r["tool_choice"] for r in model.chat_requests] == ["auto", "auto"]

    quiet = OfflineModel()
    agent = h.agent(quiet, [retrieve_payment_status], tool_choice="none")
    result = await h.run(agent, "status of T1002?")
    assert [r["tool_choice"] for r in quiet.chat_requests] == ["none"]
    assert result.tool_calls == []
    assert model.rejections == [] and quiet.rejections == []


async def test_an_agent_without_tools_sends_neither_tools_nor_tool_choice(h: Harness) -> None:
    model = OfflineModel(script=["plain"])
    agent = h.agent(model, [], temperature=0.1)

    result = await h.run(agent, "hi")

    [request] = model.chat_requests
    assert "tools" not in request and "tool_choice" not in request
    assert request["temperature"] == 0.1
    assert result.output == "plain" and result.steps == 1
    assert json.loads(json.dumps(request["messages"])) == [{"role": "user", "content": "hi"}]
    assert model.rejections == []
