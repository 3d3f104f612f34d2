"""Handoffs: a transfer_to_{name} tool per handoff; the run goes on with the other agent's prompt, tools and model
over one valid transcript; the result and events say who answered; a session resumes with the agent the
conversation was last handed to; a cycle of handoffs is bounded by max_steps. Sync and async, plain and streamed."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents import Agent, FinalResult, MaxStepsExceeded, TextDelta, ToolCallEvent, ToolResultEvent, tool
from mistral_agents.sessions import SQLiteSession
from mistral_agents.testing import OfflineModel, Reply

from .helpers import MODEL, Harness, roles, tool_messages

SMALL = "mistral-small-latest"


@tool
def refund(transaction_id: str) -> str:
    """Refund a transaction."""
    return f"refunded {transaction_id}"


def team(h: Harness, model: OfflineModel, **triage_options: Any) -> tuple[Agent[Any], Agent[Any]]:
    """triage (large model) may hand off to refunds (small model, its own prompt and tool), and back."""
    refunds: Agent[Any] = Agent(
        SMALL, [refund], client=h.client(model), name="refunds", system_prompt="You do refunds.",
        handoff_description="Refund questions.",
    )  # fmt: skip
    h._agents.append(refunds)
    triage = h.agent(model, name="triage", system_prompt="You route customers.", handoffs=[refunds], **triage_options)
    refunds.handoffs = [triage]
    return triage, refunds


async def test_a_handoff_moves_the_run_to_the_other_agent(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("transfer_to_refunds", {}),
            Reply.tool_call("refund", {"transaction_id": "T1"}),
            "Your refund of T1 is done.",
        ]
    )
    triage, _ = team(h, model)

    result = await h.run(triage, "Refund T1 please")

    assert result.output == "Your refund of T1 is done."
    assert (result.agent_name, result.handoffs) == ("refunds", ["refunds"])
    first, second, third = model.chat_requests
    assert first["model"] == MODEL and second["model"] == SMALL
    assert [t["function"]["name"] for t in first["tools"]] == ["transfer_to_refunds"]
    assert first["tools"][0]["function"]["description"] == "Refund questions."
    assert [t["function"]["name"] for t in second["tools"]] == ["refund", "transfer_to_triage"]
    assert first["messages"][0]["content"] == "You route customers."
    assert second["messages"][0]["content"] == "You do refunds."
    assert roles(second["messages"]) == ["system", "user", "assistant", "tool"]
    assert tool_messages(second)[0]["content"] == "Transferred to refunds: refunds answers from here on."
    assert roles(result.messages) == ["system", "user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert result.messages[0].content == "You do refunds."
    assert third["messages"][-1]["content"] == "refunded T1"
    assert model.rejections == []


async def test_stream_events_carry_the_agent_name(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("transfer_to_refunds", {}),
            Reply.tool_call("refund", {"transaction_id": "T1"}),
            "Done.",
        ]
    )
    triage, _ = team(h, model)

    events = await h.stream(triage, "Refund T1")

    calls = [(e.name, e.agent_name) for e in events if isinstance(e, ToolCallEvent)]
    assert calls == [("transfer_to_refunds", "triage"), ("refund", "refunds")]
    results = [(e.name, e.agent_name) for e in events if isinstance(e, ToolResultEvent)]
    assert results == [("transfer_to_refunds", "triage"), ("refund", "refunds")]
    assert {e.agent_name for e in events if isinstance(e, TextDelta)} == {"refunds"}
    final = events[-1]
    assert isinstance(final, FinalResult) and final.result.agent_name == "refunds"


async def test_a_session_resumes_with_the_agent_it_was_handed_to(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("transfer_to_refunds", {}),
            "Which transaction?",
            Reply.tool_call("refund", {"transaction_id": "T2"}),
            "Refunded T2.",
        ]
    )
    triage, _ = team(h, model)
    session = SQLiteSession("handoff")

    first = await h.run(triage, "I want a refund", session=session)
    second = await h.run(triage, "T2", session=session)

    assert (first.agent_name, second.agent_name) == ("refunds", "refunds")
    assert second.handoffs == []  # no handoff in this run: the conversation was already with refunds
    third_request = model.chat_requests[2]
    assert third_request["model"] == SMALL
    assert third_request["messages"][0]["content"] == "You do refunds."
    assert second.output == "Refunded T2."
    assert model.rejections == []


async def test_handing_back_and_forth_is_bounded_by_max_steps(h: Harness) -> None:
    def ping_pong(body: dict[str, Any]) -> Reply:
        names = [t["function"]["name"] for t in body["tools"]]
        return Reply.tool_call(next(n for n in names if n.startswith("transfer_to_")), {})

    model = OfflineModel(policy=ping_pong)
    triage, _ = team(h, model, max_steps=5)

    with pytest.raises(MaxStepsExceeded):
        await h.run(triage, "Go")

    assert len(model.chat_requests) == 5
    assert model.rejections == []


async def test_only_the_first_transfer_of_an_answer_is_made(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_calls([("transfer_to_refunds", {}), ("transfer_to_refunds", {})]),
            "Refunds here.",
        ]
    )
    triage, _ = team(h, model)

    result = await h.run(triage, "Refund")

    assert result.handoffs == ["refunds"]
    first, second = tool_messages(model.chat_requests[1])
    assert first["content"].startswith("Transferred to refunds")
    assert "only one transfer per answer" in second["content"]


def test_a_handoff_needs_a_named_agent() -> None:
    with pytest.raises(ValueError, match="needs a name"):
        Agent(MODEL, handoffs=[Agent(MODEL)])
    with pytest.raises(TypeError, match="Agent instances"):
        Agent(MODEL, handoffs=["refunds"])  # type: ignore[list-item]


async def test_a_paused_call_of_the_agent_handed_to_resumes_with_it(h: Harness) -> None:
    @tool(requires_approval=True)
    def pay_back(transaction_id: str) -> str:
        """Pay a transaction back (needs a person's approval)."""
        return f"paid back {transaction_id}"

    model = OfflineModel(
        script=[
            Reply.tool_call("transfer_to_refunds", {}),
            Reply.tool_call("pay_back", {"transaction_id": "T3"}),
            "T3 is paid back.",
        ]
    )
    refunds: Agent[Any] = Agent(SMALL, [pay_back], client=h.client(model), name="refunds")
    h._agents.append(refunds)
    triage = h.agent(model, name="triage", handoffs=[refunds])
    session = SQLiteSession("paused-handoff")

    paused = await h.run(triage, "Pay T3 back", session=session)
    assert paused.paused and paused.agent_name == "refunds"
    (pending,) = paused.pending

    done = await h.run(triage, None, session=session, approvals={pending.tool_call_id: True})

    assert done.output == "T3 is paid back." and done.agent_name == "refunds"
    assert model.chat_requests[-1]["model"] == SMALL
    assert tool_messages(model.chat_requests[-1])[-1]["content"] == "paid back T3"
    assert model.rejections == []
