"""The model's mistakes become tool messages it can act on; budgets, max_steps and failures end the run typed."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest

from mistral_agents import BadRequestError
from mistral_agents.agent import MaxStepsExceeded, ModelError, ToolError
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import tool

from .helpers import Harness, last_tool_calls, retrieve_payment_status, roles, tool_messages


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@tool
def explode(reason: str) -> str:
    """Always fails."""
    raise ValueError(f"cannot do {reason}")


#: Set by a test to let ``stuck_sync`` finish; ``stuck_sync_done`` is set once it has.
release = threading.Event()
stuck_sync_done = threading.Event()


@tool(timeout=0.1)
def stuck_sync() -> str:
    """Blocks until released."""
    release.wait(10)
    stuck_sync_done.set()
    return "too late"


@tool(timeout=0.1)
async def stuck_async() -> str:
    """Awaits for too long."""
    await asyncio.sleep(5)
    return "too late"


TOOLS = [add, explode, stuck_sync, stuck_async]

MISTAKES = [
    pytest.param(
        Reply.tool_call("add", '{"a": 1, "b": '),
        "invalid_arguments",
        "Error: invalid arguments for tool 'add': the arguments are not valid JSON",
        id="invalid-json",
    ),
    pytest.param(
        Reply.tool_call("add", {"a": 1, "b": "two"}),
        "invalid_arguments",
        "Error: invalid arguments for tool 'add': 'b': Input should be a valid integer",
        id="failing-validation",
    ),
    pytest.param(
        Reply.tool_call("subtract", {"a": 1, "b": 2}),
        "unknown_tool",
        "Error: unknown tool 'subtract'. Available tools: add, explode, stuck_sync, stuck_async.",
        id="unknown-tool",
    ),
    pytest.param(
        Reply.tool_call("explode", {"reason": "this"}),
        "tool_exception",
        "Error: tool 'explode' raised ValueError: cannot do this",
        id="tool-raises",
    ),
    pytest.param(
        Reply.tool_call("stuck_sync"),
        "timeout",
        "Error: tool 'stuck_sync' did not finish within 0.1 seconds. It could not be stopped, so it may still "
        "complete and its effects may still happen",
        id="sync-tool-timeout",
    ),
    pytest.param(
        Reply.tool_call("stuck_async"),
        "timeout",
        "Error: tool 'stuck_async' did not finish within 0.1 seconds and was cancelled.",
        id="async-tool-timeout",
    ),
]


@pytest.mark.parametrize(("mistake", "kind", "told"), MISTAKES)
async def test_a_model_mistake_goes_back_as_a_tool_message_and_the_run_finishes(
    h: Harness, mistake: Reply, kind: str, told: str
) -> None:
    model = OfflineModel(script=[mistake, "Sorry, let me fix that."])
    agent = h.agent(model, TOOLS)
    release.clear()
    stuck_sync_done.clear()

    try:
        result = await h.run(agent, "do it")
        assert not stuck_sync_done.is_set()  # a timed-out tool is not waited for
    finally:
        release.set()
    assert result.output == "Sorry, let me fix that."
    [outcome] = result.tool_calls
    assert outcome.error_kind == kind and not outcome.ok
    [sent] = tool_messages(model.chat_requests[1])
    assert sent["content"].startswith(told), sent["content"]
    assert sent["tool_call_id"] == last_tool_calls(model.chat_requests[1])[0]["id"]
    assert model.rejections == []


async def test_the_model_can_correct_itself_after_a_mistake(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("add", {"a": 1, "b": "two"}),
            Reply.tool_call("add", {"a": 1, "b": 2}),
            "1 + 2 = 3",
        ]
    )
    agent = h.agent(model, [add])

    result = await h.run(agent, "1 + two?")

    assert [(c.ok, c.result) for c in result.tool_calls] == [(False, None), (True, 3)]
    assert tool_messages(model.chat_requests[2])[-1]["content"] == "3"
    assert result.output == "1 + 2 = 3"
    assert model.rejections == []


async def test_past_the_error_budget_the_run_ends_with_tool_error(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("add", "not json"),
            Reply.tool_calls([("explode", {"reason": "a"}), ("add", {"a": 1, "b": 1})]),
            Reply.tool_call("nope"),
            "never sent",
        ]
    )
    agent = h.agent(model, [add, explode], max_tool_errors=2)

    with pytest.raises(ToolError) as caught:
        await h.run(agent, "go")

    error = caught.value
    assert [o.error_kind for o in error.outcomes] == ["invalid_arguments", "tool_exception", "unknown_tool"]
    assert "max_tool_errors=2" in str(error)
    # The transcript holds every turn up to the failure, the last failed result included.
    assert roles(error.messages) == ["user", "assistant", "tool", "assistant", "tool", "tool", "assistant", "tool"]
    assert error.messages[-1].content.startswith("Error: unknown tool 'nope'")
    assert len(model.chat_requests) == 3 and model.remaining == 1
    assert model.rejections == []


async def test_a_zero_error_budget_stops_at_the_first_mistake(h: Harness) -> None:
    model = OfflineModel(script=[Reply.tool_call("explode", {"reason": "x"}), "unused"])
    agent = h.agent(model, [explode], max_tool_errors=0)

    with pytest.raises(ToolError) as caught:
        await h.run(agent, "go")

    assert [o.name for o in caught.value.outcomes] == ["explode"]
    assert len(model.chat_requests) == 1
    assert model.rejections == []


async def test_max_steps_ends_the_run_with_the_transcript(h: Harness) -> None:
    model = OfflineModel(script=[Reply.tool_call("add", {"a": i, "b": 1}) for i in range(5)])
    agent = h.agent(model, [add], max_steps=3)

    with pytest.raises(MaxStepsExceeded) as caught:
        await h.run(agent, "count forever")

    assert len(model.chat_requests) == 3  # max_steps counts model calls
    assert "max_steps=3" in str(caught.value)
    messages = caught.value.messages
    assert roles(messages) == ["user"] + ["assistant", "tool"] * 3
    assert [m.content for m in messages if m.role == "tool"] == ["1", "2", "3"]
    assert model.rejections == []


@pytest.mark.parametrize("reason", ["length", "model_length"])
async def test_a_cut_off_answer_is_reported_on_the_result(h: Harness, reason: str) -> None:
    model = OfflineModel(script=[Reply.text("The answer is cut", finish_reason=reason)])
    agent = h.agent(model, [add])

    result = await h.run(agent, "long story please")

    assert result.output == "The answer is cut"
    assert result.finish_reason == reason and result.truncated
    assert model.rejections == []


async def test_a_normal_answer_is_not_truncated(h: Harness) -> None:
    model = OfflineModel(script=["Complete."])
    result = await h.run(h.agent(model, [add]), "hi")
    assert result.finish_reason == "stop" and not result.truncated
    assert model.rejections == []


async def test_finish_reason_error_raises_model_error_with_the_transcript(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("add", {"a": 2, "b": 2}),
            Reply.text("partial", finish_reason="error"),
        ]
    )
    agent = h.agent(model, [add])

    with pytest.raises(ModelError) as caught:
        await h.run(agent, "2+2")

    assert roles(caught.value.messages) == ["user", "assistant", "tool", "assistant"]
    assert caught.value.messages[2].content == "4"
    assert model.rejections == []


async def test_a_client_error_during_a_run_carries_the_transcript(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1003"}),
            Reply.error(400, {"object": "error", "message": "Bad request", "type": "invalid_request_error"}),
        ]
    )
    agent = h.agent(model, [retrieve_payment_status])

    with pytest.raises(BadRequestError) as caught:
        await h.run(agent, "status of T1003?")

    messages: Any = caught.value.messages
    assert roles(messages) == ["user", "assistant", "tool"]
    assert messages[-1].content == '{"status":"Pending"}'
    assert model.rejections == []


async def test_a_client_error_while_streaming_carries_the_transcript(h: Harness) -> None:
    model = OfflineModel(script=[Reply.error(400, {"object": "error", "message": "nope"})])
    agent = h.agent(model, [add])

    with pytest.raises(BadRequestError) as caught:
        await h.stream(agent, "hi")

    assert roles(caught.value.messages or []) == ["user"]
    assert model.rejections == []


async def test_calls_over_the_per_step_cap_are_refused_not_run(h: Harness) -> None:
    ran: list[int] = []

    @tool
    def record(n: int) -> int:
        """Record n."""
        ran.append(n)
        return n

    model = OfflineModel(script=[Reply.tool_calls([("record", {"n": i}) for i in range(4)]), "ok"])
    agent = h.agent(model, [record], max_tool_calls_per_step=2, max_tool_errors=5)

    result = await h.run(agent, "go")

    assert sorted(ran) == [0, 1]
    contents = [m["content"] for m in tool_messages(model.chat_requests[1])]
    assert contents[:2] == ["0", "1"]
    assert all(c.startswith("Error: too many tool calls in one message: only the first 2") for c in contents[2:])
    assert len(contents) == 4  # every call still gets exactly one result
    assert result.output == "ok"
    assert model.rejections == []


async def test_a_timeout_counts_from_when_the_tool_starts_not_while_it_waits_for_a_worker(h: Harness) -> None:
    runs: dict[int, tuple[float, float]] = {}

    @tool(timeout=1.0)
    def work(n: int) -> int:
        """Takes 0.6 s of its 1 s budget."""
        started = time.perf_counter()
        time.sleep(0.6)
        runs[n] = (started, time.perf_counter())
        return n

    model = OfflineModel(script=[Reply.tool_calls([("work", {"n": 1}), ("work", {"n": 2})]), "ok"])
    agent = h.agent(model, [work], max_concurrency=1)  # the second call waits for the only worker

    result = await h.run(agent, "go")

    # Queued behind the first call, the second finished more than 1 s after the first started, yet did not time
    # out: its clock started when it did.
    assert [(c.ok, c.result) for c in result.tool_calls] == [(True, 1), (True, 2)]
    assert runs[2][0] >= runs[1][1]  # one after the other (one worker)
    second = result.tool_calls[1]
    assert second.duration < runs[2][1] - runs[1][0]  # the queueing is not the tool's time
    assert model.rejections == []
