"""Paused runs (§10): a call needing approval with no approver (or DEFER) pauses; approvals= resumes it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mistral_agents import DEFER, PendingCall, pending_calls, tool
from mistral_agents.sessions import SQLiteSession
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import PreparedCall
from tests.agent.helpers import Harness, retrieve_payment_status, tool_messages


def refund_tool(ran: list[str]) -> Any:
    @tool(requires_approval=True)
    def refund(transaction_id: str) -> str:
        """Refund a transaction.

        Args:
            transaction_id: The transaction id.
        """
        ran.append(transaction_id)
        return f"refunded {transaction_id}"

    return refund


async def test_no_approver_pauses_before_anything_of_the_step_runs(h: Harness) -> None:
    ran: list[str] = []
    calls = [("retrieve_payment_status", {"transaction_id": "T1001"}), ("refund", {"transaction_id": "T1001"})]
    model = OfflineModel(script=[Reply.tool_calls(calls)])
    agent = h.agent(model, [retrieve_payment_status, refund_tool(ran)])

    result = await h.run(agent, "Refund T1001")

    assert result.paused and result.output is None and ran == []
    [pending] = result.pending
    assert pending == PendingCall(pending.tool_call_id, "refund", '{"transaction_id": "T1001"}')
    assert result.messages[-1].role == "assistant" and len(result.messages[-1].tool_calls or ()) == 2
    assert result.tool_calls == [] and len(model.chat_requests) == 1


async def test_resume_runs_approved_calls_with_the_stored_arguments_and_denied_ones_reach_the_model(
    h: Harness,
) -> None:
    ran: list[str] = []
    calls = [("refund", {"transaction_id": "T1001"}), ("refund", {"transaction_id": "T1002"})]
    model = OfflineModel(script=[Reply.tool_calls(calls), "One refunded, one refused."])
    agent = h.agent(model, [refund_tool(ran)], tool_choice="any")
    paused = await h.run(agent, "Refund both")
    first, second = paused.pending

    result = await h.run(
        agent, None, history=paused.messages, approvals={first.tool_call_id: True, second.tool_call_id: False}
    )

    assert ran == ["T1001"]  # the arguments came from the transcript; the caller sent decisions only
    assert result.output == "One refunded, one refused." and not result.paused
    sent = model.chat_requests[-1]
    assert [m["content"] for m in tool_messages(sent)] == [
        "refunded T1001",
        "Error: the call to tool 'refund' was denied.",
    ]
    assert sent["tool_choice"] == "auto"  # a forced choice applies only to the first request of a prompted run
    assert [o.error_kind for o in result.tool_calls] == [None, "denied"]
    assert model.rejections == []


async def test_an_id_that_is_not_pending_is_a_value_error_and_nothing_runs(h: Harness) -> None:
    ran: list[str] = []
    model = OfflineModel(script=[Reply.tool_call("refund", {"transaction_id": "T1001"})])
    agent = h.agent(model, [refund_tool(ran)])
    paused = await h.run(agent, "Refund T1001")

    with pytest.raises(ValueError, match=r"not pending approval: 'aB3dE5fG7'.*pending: '"):
        await h.run(agent, None, history=paused.messages, approvals={"aB3dE5fG7": True})
    with pytest.raises(ValueError, match="prompt=None"):
        await h.run(agent, "hello", history=paused.messages, approvals={paused.pending[0].tool_call_id: True})
    assert ran == [] and len(model.chat_requests) == 1


async def test_partial_decisions_pause_again_for_the_rest_and_calls_without_approval_run_on_resume(
    h: Harness,
) -> None:
    ran: list[str] = []
    calls = [
        ("refund", {"transaction_id": "T1001"}),
        ("retrieve_payment_status", {"transaction_id": "T1002"}),
        ("refund", {"transaction_id": "T1003"}),
    ]
    model = OfflineModel(script=[Reply.tool_calls(calls), "Done."])
    agent = h.agent(model, [refund_tool(ran), retrieve_payment_status])
    paused = await h.run(agent, "Refund 1 and 3, status of 2")
    a, b = paused.pending

    again = await h.run(agent, None, history=paused.messages, approvals={b.tool_call_id: True})

    assert again.paused and again.pending == [a] and ran == ["T1003"]
    assert pending_calls(again.messages, agent.tools) == [a] == pending_calls(again.messages)
    assert [m.role for m in again.new_messages] == ["tool", "tool"]  # the status call and T1003, in call order
    assert [o.name for o in again.tool_calls] == ["retrieve_payment_status", "refund"]
    assert len(model.chat_requests) == 1

    done = await h.run(agent, None, history=again.messages, approvals={a.tool_call_id: True})

    assert done.output == "Done." and ran == ["T1003", "T1001"]
    assert model.rejections == []


async def test_an_approver_answering_defer_pauses_and_is_asked_again_on_resume(h: Harness) -> None:
    ran: list[str] = []
    asked: list[str] = []

    def approver(call: PreparedCall) -> Any:
        asked.append(call.args["transaction_id"])
        return True if call.args["transaction_id"] == "T1001" else DEFER

    calls = [("refund", {"transaction_id": "T1001"}), ("refund", {"transaction_id": "T1002"})]
    model = OfflineModel(script=[Reply.tool_calls(calls), "ok"])
    agent = h.agent(model, [refund_tool(ran)], approver=approver)
    paused = await h.run(agent, "Refund both")
    assert [json.loads(p.arguments) for p in paused.pending] == [{"transaction_id": "T1002"}] and ran == []

    result = await h.run(agent, None, history=paused.messages, approvals={paused.pending[0].tool_call_id: True})

    assert ran == ["T1001", "T1002"] and result.output == "ok"
    assert asked == ["T1001", "T1002", "T1001"]  # decided calls are not put to the approver again


async def test_a_paused_run_with_a_session_resumes_from_the_session(h: Harness) -> None:
    ran: list[str] = []
    model = OfflineModel(script=[Reply.tool_call("refund", {"transaction_id": "T1001"}), "Refunded."])
    agent = h.agent(model, [refund_tool(ran)], system_prompt="You are a payments bot.")
    session = SQLiteSession("customer-1")
    paused = await h.run(agent, "Refund T1001", session=session)
    stored = session.get_messages()
    assert [m.role for m in stored] == ["user", "assistant"] and stored[-1].tool_calls
    assert pending_calls(stored, agent.tools) == paused.pending  # what a service shows a human, from the store

    result = await h.run(agent, None, session=session, approvals={paused.pending[0].tool_call_id: True})

    assert result.output == "Refunded." and ran == ["T1001"]
    assert [m.role for m in session.get_messages()] == ["user", "assistant", "tool", "assistant"]


async def test_a_new_prompt_on_a_paused_conversation_tells_the_model_the_calls_did_not_run(h: Harness) -> None:
    ran: list[str] = []
    model = OfflineModel(script=[Reply.tool_call("refund", {"transaction_id": "T1001"}), "OK, no refund."])
    agent = h.agent(model, [refund_tool(ran)])
    session = SQLiteSession("customer-2")
    await h.run(agent, "Refund T1001", session=session)

    result = await h.run(agent, "Never mind", session=session)

    assert result.output == "OK, no refund." and ran == []
    assert tool_messages(model.chat_requests[-1])[0]["content"].startswith("Error: this tool call was not run")
    assert model.rejections == []
