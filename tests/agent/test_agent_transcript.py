"""History continuation and tool-call id rewriting: what the agent sends back is always a valid transcript."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents.agent import FinalResult, MaxStepsExceeded, ToolCallEvent
from mistral_agents.models.chat_completion import ChatMessage
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import tool

from .helpers import VALID_ID, Harness, last_tool_calls, retrieve_payment_status, roles, tool_messages


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def assert_ids_consistent(request: dict[str, Any]) -> list[str]:
    """Every tool-call id is 9 alphanumerics, distinct, and answered by exactly one tool result, in order."""
    calls = [c["id"] for m in request["messages"] if m["role"] == "assistant" for c in m.get("tool_calls") or []]
    answered = [m["tool_call_id"] for m in request["messages"] if m["role"] == "tool"]
    assert all(VALID_ID.match(i) for i in calls), calls
    assert len(set(calls)) == len(calls), calls
    assert answered == calls
    return calls


async def test_a_run_continues_from_result_messages(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1001"}),
            "T1001 is Paid.",
            "You're welcome!",
        ]
    )
    agent = h.agent(model, [retrieve_payment_status], system_prompt="Be brief.")
    first = await h.run(agent, "Status of T1001?")

    second = await h.run(agent, "Thanks!", history=first.messages)

    sent = model.chat_requests[2]["messages"]
    assert roles(sent) == ["system", "user", "assistant", "tool", "assistant", "user"]
    assert sent[:-1] == model.chat_requests[1]["messages"] + [{"role": "assistant", "content": "T1001 is Paid."}]
    assert sum(m["role"] == "system" for m in sent) == 1  # the system prompt is not added twice
    assert second.output == "You're welcome!"
    assert roles(second.new_messages) == ["user", "assistant"]
    assert second.new_messages[0].content == "Thanks!"
    assert second.messages[: len(first.messages)] == first.messages
    assert model.rejections == []


async def test_a_history_ending_in_a_tool_result_never_puts_a_user_after_a_tool(h: Harness) -> None:
    model = OfflineModel(script=[Reply.tool_call("add", {"a": 1, "b": 2}), "Anything else?"])
    agent = h.agent(model, [add], max_steps=1)
    with pytest.raises(MaxStepsExceeded) as caught:  # stop the run right after the tool turn
        await h.run(agent, "1+2?")
    history = caught.value.messages
    assert roles(history)[-1] == "tool"

    agent = h.agent(model, [add])
    result = await h.run(agent, "And 3+4?", history=history)

    sent = model.chat_requests[-1]["messages"]
    assert roles(sent) == ["user", "assistant", "tool", "assistant", "user"]
    assert sent[-2]["content"]  # an assistant turn with text stands between the tool result and the new question
    assert sent[-1] == {"role": "user", "content": "And 3+4?"}
    assert result.output == "Anything else?"
    assert model.rejections == []


async def test_a_history_ending_in_tool_results_can_be_continued_without_a_prompt(h: Harness) -> None:
    model = OfflineModel()  # the demo policy answers from the latest tool results
    history = [
        {"role": "user", "content": "Status of T1002?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "id": "abcDEF123",
                    "type": "function",
                    "function": {"name": "retrieve_payment_status", "arguments": '{"transaction_id": "T1002"}'},
                }
            ],
        },
        {
            "role": "tool",
            "tool_call_id": "abcDEF123",
            "name": "retrieve_payment_status",
            "content": '{"status": "Unpaid"}',
        },
    ]
    agent = h.agent(model, [retrieve_payment_status])

    result = await h.run(agent, None, history=history)

    assert result.output == "The status of transaction T1002 is Unpaid."
    assert roles(model.chat_requests[0]["messages"]) == ["user", "assistant", "tool"]
    assert model.rejections == []


async def test_invalid_and_duplicate_ids_from_the_model_are_rewritten_consistently(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_calls([("add", {"a": 1, "b": 1}, "call_abc123"), ("add", {"a": 2, "b": 2}, "call_abc123")]),
            Reply.tool_calls([("add", {"a": 3, "b": 3}, "abcDEF123"), ("add", {"a": 4, "b": 4}, "abcDEF123")]),
            Reply.tool_call("add", {"a": 5, "b": 5}, id="abcDEF123"),  # reused from an earlier turn
            "done",
        ]
    )
    agent = h.agent(model, [add])

    events = await h.stream(agent, "add things")

    ids = assert_ids_consistent(model.chat_requests[3])
    assert len(ids) == 5
    assert ids[2] == "abcDEF123"  # a valid, unused id is kept as is
    # Each result still answers its own call.
    assert [m["content"] for m in tool_messages(model.chat_requests[3])] == ["2", "4", "6", "8", "10"]
    final = events[-1]
    assert isinstance(final, FinalResult)
    assert [o.tool_call_id for o in final.result.tool_calls] == ids
    assert [e.tool_call_id for e in events if isinstance(e, ToolCallEvent)] == ids
    for request in model.chat_requests[1:]:
        assert_ids_consistent(request)
    assert model.rejections == []


async def test_a_policy_producing_openai_style_ids_is_rewritten(h: Harness) -> None:
    counter = iter(range(100))

    def policy(request: dict[str, Any]) -> Reply | str:
        if request["messages"][-1]["role"] == "tool":
            return "ok"
        return Reply.tool_calls([("add", {"a": 1, "b": 2}, f"call_{next(counter)}") for _ in range(2)])

    model = OfflineModel(policy=policy)
    agent = h.agent(model, [add])

    result = await h.run(agent, "go")

    calls = assert_ids_consistent(model.chat_requests[1])
    assert len(calls) == 2
    assert [m.tool_call_id for m in result.messages if m.role == "tool"] == calls
    assert [c.id for c in result.messages[1].tool_calls or []] == calls
    assert model.rejections == []


async def test_an_imported_history_with_foreign_ids_is_made_valid(h: Harness) -> None:
    history: list[Any] = [
        {"role": "system", "content": "You add numbers."},
        {"role": "user", "content": "1+1 and 2+2?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_Xy7", "type": "function", "function": {"name": "add", "arguments": '{"a":1,"b":1}'}},
                {"id": "call_Zz9", "type": "function", "function": {"name": "add", "arguments": '{"a":2,"b":2}'}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_Zz9", "name": "add", "content": "4"},
        {"role": "tool", "tool_call_id": "call_Xy7", "name": "add", "content": "2"},
        {"role": "assistant", "content": "2 and 4."},
        ChatMessage(role="user", content="Thanks"),
        {"role": "assistant", "content": ""},  # an empty assistant turn: dropped
    ]
    model = OfflineModel(script=["You're welcome."])
    agent = h.agent(model, [add], system_prompt="ignored: the history has one")

    await h.run(agent, "Bye", history=history)

    [request] = model.chat_requests
    sent = request["messages"]
    assert roles(sent) == ["system", "user", "assistant", "tool", "tool", "assistant", "user", "user"]
    assert sent[0]["content"] == "You add numbers."
    calls = last_tool_calls(request)
    assert all(VALID_ID.match(c["id"]) for c in calls)
    # Results keep their original pairing: call_Zz9 answered 4, call_Xy7 answered 2.
    by_id = {m["tool_call_id"]: m["content"] for m in tool_messages(request)}
    assert [by_id[c["id"]] for c in calls] == ["2", "4"]
    assert model.rejections == []
