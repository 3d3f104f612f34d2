"""One customer's scripted conversation with the support service, and the checks on what it stored."""

from __future__ import annotations

import json
from typing import Any

import httpx

from mistral_agents import ChatMessage
from mistral_agents.testing import check_chat_request

from .harness import Answer, SignedIn, post_events, sign_in

TRANSACTIONS = ("T1001", "T1002", "T1003", "T1004", "T1005")
STATUS = {"T1001": "Paid", "T1002": "Unpaid", "T1003": "Paid", "T1004": "Paid", "T1005": "Pending"}
DATES = {"T1001": "2021-10-05", "T1002": "2021-10-06", "T1003": "2021-10-07", "T1004": "2021-10-05"}
DATES["T1005"] = "2021-10-08"
AMOUNTS = {"T1001": "125.50", "T1002": "89.99", "T1003": "120.00", "T1004": "54.30", "T1005": "210.20"}


def turns(transaction: str) -> list[str]:
    """Four turns: status, date, a refund (paused until a human decides), thanks."""
    return [
        f"What's the status of my transaction {transaction}?",
        "And when was it paid?",
        f"Please refund transaction {transaction}.",
        "Thanks!",
    ]


async def converse(url: str, staff: SignedIn, customer: str, transaction: str, approve: bool) -> list[Answer]:
    """Drive the four turns through the service as ``customer`` (signed in on a client of its own), the refund
    decided by ``staff``; check each streamed answer as it comes."""
    base = f"/api/customers/{customer}"
    answers = []
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        csrf = await sign_in(http, "customer", customer)
        for number, text in enumerate(turns(transaction)):
            answer = await post_events(http, f"{base}/messages", {"text": text}, csrf)
            assert "error" not in answer.kinds, answer.events
            if number == 2:  # the refund waits for our team
                assert "tool_result" not in answer.kinds and answer.kinds[-2:] == ["approval_required", "done"]
                (pending,) = answer.of("approval_required")[0]["pending"]
                assert pending["name"] == "refund_payment"
                assert json.loads(pending["arguments"]) == {"transaction_id": transaction}
                assert answer.of("done") == [{"output": None, "paused": True}]
                answers.append(answer)
                decisions = {pending["tool_call_id"]: approve}
                answer = await post_events(staff.http, f"{base}/approvals", {"decisions": decisions}, staff.csrf)
                assert "error" not in answer.kinds, answer.events
                (call,), (result,) = answer.of("tool_call"), answer.of("tool_result")
                assert call["id"] == result["id"] == pending["tool_call_id"] and result["ok"] is approve
            (done,) = answer.of("done")
            assert done["paused"] is False and done["output"] == answer.text and answer.text
            answers.append(answer)
    assert STATUS[transaction] in answers[0].text and DATES[transaction] in answers[1].text
    assert (AMOUNTS[transaction] in answers[3].text) is approve
    return answers


def check_stored(messages: list[ChatMessage], transaction: str, approve: bool, answers: list[Answer]) -> None:
    """The stored conversation is exactly the four turns, in order, each once, and valid for the hosted API."""
    wire = [message.model_dump(exclude_none=True) for message in messages]
    users = [m["content"] for m in wire if m["role"] == "user"]
    assert users == turns(transaction), users
    calls = [call for m in wire if m["role"] == "assistant" for call in m.get("tool_calls") or []]
    names = [call["function"]["name"] for call in calls]
    assert names == ["retrieve_payment_status", "retrieve_payment_date", "refund_payment"], names
    results = {m["tool_call_id"]: m["content"] for m in wire if m["role"] == "tool"}
    assert list(results) == [call["id"] for call in calls]  # each call answered once, in order
    assert (AMOUNTS[transaction] in results[calls[2]["id"]]) is approve
    finals = [m["content"] for m in wire if m["role"] == "assistant" and not m.get("tool_calls")]
    streamed = [answer.text for answer in answers if answer.text]
    assert finals == streamed, (finals, streamed)  # what the customer saw is what was stored
    body: dict[str, Any] = {
        "model": "mistral-large-latest",
        "messages": [{"role": "system", "content": "system"}, *wire, {"role": "user", "content": "next"}],
    }
    violation = check_chat_request(body)
    assert violation is None, violation.message
