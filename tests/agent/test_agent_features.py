"""Deps and RunContext, structured output, approvals, and what a RunResult reports."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import pytest
from pydantic import BaseModel

from mistral_agents.agent import OutputValidationError
from mistral_agents.models.chat_completion import ChatMessage
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import PreparedCall, RunContext, tool

from .helpers import Harness, last_tool_calls, retrieve_payment_status, roles, tool_messages


@dataclass
class Deps:
    user: str
    balance: int


async def test_deps_and_the_run_context_reach_tools(h: Harness) -> None:
    seen: list[dict[str, Any]] = []

    @tool
    def balance(ctx: RunContext[Deps], currency: str) -> str:
        """The user's balance."""
        seen.append(
            {
                "deps": ctx.deps,
                "total_tokens": ctx.usage.total_tokens,
                "roles": [m.role for m in ctx.messages],
                "tool_call_id": ctx.tool_call_id,
                "tool_name": ctx.tool_name,
                "step": ctx.step,
            }
        )
        return f"{ctx.deps.user}: {ctx.deps.balance} {currency}"

    usage = {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    model = OfflineModel(
        script=[
            Reply.tool_call("balance", {"currency": "EUR"}, usage=usage),
            Reply.tool_call("balance", {"currency": "USD"}, usage=usage),
            "done",
        ]
    )
    default, per_run = Deps("agent-default", 1), Deps("alice", 42)
    agent = h.agent(model, [balance], deps=default)

    result = await h.run(agent, "my balance?", deps=per_run)

    assert [s["deps"] for s in seen] == [per_run, per_run]
    assert [m["content"] for m in tool_messages(model.chat_requests[2])] == ["alice: 42 EUR", "alice: 42 USD"]
    assert [s["total_tokens"] for s in seen] == [15, 30]  # usage so far, summed over the model calls
    assert seen[0]["roles"] == ["user", "assistant"]  # the transcript so far, the tool-call turn included
    assert seen[1]["roles"] == ["user", "assistant", "tool", "assistant"]
    assert [s["tool_call_id"] for s in seen] == [c.tool_call_id for c in result.tool_calls]
    assert seen[0]["tool_call_id"] == last_tool_calls(model.chat_requests[1])[0]["id"]
    assert [s["tool_name"] for s in seen] == ["balance", "balance"]
    assert [s["step"] for s in seen] == [1, 2]
    # no deps given to the run: the agent's own
    model.add(Reply.tool_call("balance", {"currency": "GBP"}), "done")
    await h.run(agent, "again")
    assert seen[-1]["deps"] is default
    assert "ctx" not in json.dumps(model.chat_requests[0]["tools"])  # the context is not in the schema
    assert model.rejections == []


async def test_an_async_tool_gets_the_context_too(h: Harness) -> None:
    @tool
    async def whoami(ctx: RunContext[str]) -> str:
        """Who is asking."""
        return f"you are {ctx.deps}"

    model = OfflineModel(script=[Reply.tool_call("whoami"), "ok"])
    result = await h.run(h.agent(model, [whoami]), "who am I?", deps="bob")
    assert result.tool_calls[0].content == "you are bob"
    assert model.rejections == []


class Payment(BaseModel):
    transaction_id: str
    status: str


async def test_structured_output_is_requested_as_json_schema_and_validated(h: Harness) -> None:
    model = OfflineModel()  # the demo policy answers a json_schema request with a schema-valid instance
    agent = h.agent(model, [], output_type=Payment)

    result = await h.run(agent, "Status of T1001 as JSON")

    assert isinstance(result.output, Payment)
    [request] = model.chat_requests
    fmt = request["response_format"]
    assert fmt["type"] == "json_schema"
    assert set(fmt["json_schema"]["schema"]["properties"]) == {"transaction_id", "status"}
    assert model.rejections == []


async def test_an_invalid_structured_answer_is_re_asked_once(h: Harness) -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1001"}),
            "It is Paid!",
            '{"transaction_id": "T1001", "status": "Paid"}',
        ]
    )
    agent = h.agent(model, [retrieve_payment_status], output_type=Payment)

    result = await h.run(agent, "Status of T1001?")

    assert result.output == Payment(transaction_id="T1001", status="Paid")
    assert result.steps == 3
    re_ask = model.chat_requests[2]["messages"]
    assert roles(re_ask)[-2:] == ["assistant", "user"]
    assert re_ask[-2]["content"] == "It is Paid!"
    assert re_ask[-1]["content"].startswith("Your answer is not valid Payment JSON")
    assert all(r["response_format"]["type"] == "json_schema" for r in model.chat_requests)
    assert model.rejections == []


async def test_a_second_invalid_structured_answer_raises(h: Harness) -> None:
    model = OfflineModel(script=['{"transaction_id": "T1001"}', '{"status": 3}', "unused"])
    agent = h.agent(model, [], output_type=Payment)

    with pytest.raises(OutputValidationError) as caught:
        await h.run(agent, "Status?")

    assert "Payment" in str(caught.value) and "status" in str(caught.value)
    assert roles(caught.value.messages) == ["user", "assistant", "user", "assistant"]
    assert len(model.chat_requests) == 2
    assert model.rejections == []


def refund_tool(ran: list[str]) -> Any:
    @tool(requires_approval=True)
    def refund(transaction_id: str) -> str:
        """Refund a transaction."""
        ran.append(transaction_id)
        return f"refunded {transaction_id}"

    return refund


@pytest.mark.parametrize(
    ("approver", "expected"),
    [
        (
            lambda call: "refunds need a manager",
            "Error: the call to tool 'refund' was denied. Reason: refunds need a manager",
        ),
        (lambda call: False, "Error: the call to tool 'refund' was denied."),
    ],
    ids=["denied-with-reason", "denied"],
)
async def test_a_denied_call_never_runs_and_the_model_sees_why(h: Harness, approver: Any, expected: str) -> None:
    ran: list[str] = []
    model = OfflineModel(script=[Reply.tool_call("refund", {"transaction_id": "T1001"}), "I could not refund it."])
    agent = h.agent(model, [refund_tool(ran)], approver=approver, max_tool_errors=0)

    result = await h.run(agent, "Refund T1001")

    assert ran == []
    [sent] = tool_messages(model.chat_requests[1])
    assert sent["content"].startswith(expected), sent["content"]
    assert result.tool_calls[0].error_kind == "denied"
    assert result.output == "I could not refund it."  # a denial is not a model mistake: no budget spent
    assert model.rejections == []


async def test_an_approved_call_runs(h: Harness) -> None:
    ran: list[str] = []
    asked: list[PreparedCall] = []

    def approver(call: PreparedCall) -> bool:
        asked.append(call)
        return call.args["transaction_id"] == "T1001"

    model = OfflineModel(
        script=[
            Reply.tool_calls(
                [
                    ("refund", {"transaction_id": "T1001"}),
                    ("refund", {"transaction_id": "T1002"}),
                    ("retrieve_payment_status", {"transaction_id": "T1001"}),
                ]
            ),
            "Refunded T1001 only.",
        ]
    )
    agent = h.agent(model, [refund_tool(ran), retrieve_payment_status], approver=approver)

    result = await h.run(agent, "Refund T1001 and T1002")

    assert ran == ["T1001"]
    assert [c.name for c in asked] == ["refund", "refund"]  # tools without requires_approval are not asked about
    assert [m["content"] for m in tool_messages(model.chat_requests[1])] == [
        "refunded T1001",
        "Error: the call to tool 'refund' was denied.",
        '{"status":"Paid"}',
    ]
    assert result.output == "Refunded T1001 only."
    assert model.rejections == []


async def test_an_async_approver_is_awaited(h: Harness) -> None:
    ran: list[str] = []

    async def approver(call: PreparedCall) -> bool | str:
        return True if call.args["transaction_id"] == "T1003" else "not that one"

    model = OfflineModel(
        script=[
            Reply.tool_calls([("refund", {"transaction_id": "T1003"}), ("refund", {"transaction_id": "T1002"})]),
            "ok",
        ]
    )
    agent = h.agent(model, [refund_tool(ran)], approver=approver)

    await h.run(agent, "Refund")

    assert ran == ["T1003"]
    assert tool_messages(model.chat_requests[1])[1]["content"].endswith("Reason: not that one")
    assert model.rejections == []


async def test_run_result_reports_output_messages_usage_steps_and_tool_calls(h: Harness) -> None:
    @tool
    def slow_status(transaction_id: str) -> dict[str, str]:
        """Status, slowly."""
        time.sleep(0.05)
        return retrieve_payment_status(transaction_id)

    model = OfflineModel(
        script=[
            Reply.tool_call(
                "slow_status",
                {"transaction_id": "T1001"},
                usage={"prompt_tokens": 20, "completion_tokens": 7, "total_tokens": 27},
            ),
            Reply.tool_call("nope", {}, usage={"prompt_tokens": 40, "completion_tokens": 3, "total_tokens": 43}),
            Reply.text("Paid.", usage={"prompt_tokens": 60, "completion_tokens": 2, "total_tokens": 62}),
        ]
    )
    history = [ChatMessage(role="user", content="hi"), ChatMessage(role="assistant", content="Hello!")]
    agent = h.agent(model, [slow_status])

    result = await h.run(agent, "Status of T1001?", history=history)

    assert result.output == "Paid."
    assert result.steps == 3
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.total_tokens) == (120, 12, 132)
    assert roles(result.messages) == [
        "user",
        "assistant",
        "user",
        "assistant",
        "tool",
        "assistant",
        "tool",
        "assistant",
    ]
    assert result.new_messages == result.messages[2:]
    assert result.new_messages[0].content == "Status of T1001?"
    ok, failed = result.tool_calls
    assert (ok.name, ok.args, ok.result, ok.error) == (
        "slow_status",
        {"transaction_id": "T1001"},
        {"status": "Paid"},
        None,
    )
    assert ok.duration >= 0.05
    assert (failed.name, failed.ok, failed.error_kind) == ("nope", False, "unknown_tool")
    assert failed.error is not None and "unknown tool 'nope'" in failed.error
    assert model.rejections == []
