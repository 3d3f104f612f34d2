"""Streamed runs: typed events in order, tool-call chunks merged whether they arrive whole or incrementally."""

from __future__ import annotations

import json

import pytest

from mistral_agents.agent import FinalResult, TextDelta, ToolCallEvent, ToolResultEvent
from mistral_agents.testing import OfflineModel, Reply

from .helpers import Harness, retrieve_payment_date, retrieve_payment_status


@pytest.mark.parametrize("tool_call_streaming", ["whole", "incremental"])
async def test_events_arrive_in_order(h: Harness, tool_call_streaming: str) -> None:
    model = OfflineModel(tool_call_streaming=tool_call_streaming)  # type: ignore[arg-type]
    agent = h.agent(model, [retrieve_payment_status, retrieve_payment_date])

    events = await h.stream(agent, "What is the status and the date of transaction T1002?")

    kinds = [type(e).__name__ for e in events]
    # two parallel calls, their two results, then the final answer's text, then the result
    assert kinds[:4] == ["ToolCallEvent", "ToolCallEvent", "ToolResultEvent", "ToolResultEvent"]
    assert set(kinds[4:-1]) == {"TextDelta"} and len(kinds[4:-1]) > 1
    assert kinds[-1] == "FinalResult"

    calls = [e for e in events if isinstance(e, ToolCallEvent)]
    results = [e for e in events if isinstance(e, ToolResultEvent)]
    assert [(c.name, json.loads(c.arguments), c.step) for c in calls] == [
        ("retrieve_payment_status", {"transaction_id": "T1002"}, 1),
        ("retrieve_payment_date", {"transaction_id": "T1002"}, 1),
    ]
    assert [r.tool_call_id for r in results] == [c.tool_call_id for c in calls]
    assert [(r.ok, r.outcome.content) for r in results] == [
        (True, '{"status":"Unpaid"}'),
        (True, '{"date":"2021-10-06"}'),
    ]
    final = events[-1]
    assert isinstance(final, FinalResult)
    text = "".join(e.text for e in events if isinstance(e, TextDelta))
    assert text == final.result.output
    assert text == "The status of transaction T1002 is Unpaid. The date of transaction T1002 is 2021-10-06."
    assert all(e.step == 2 for e in events if isinstance(e, TextDelta))
    assert final.result.steps == 2
    assert all(r.get("stream") is True for r in model.chat_requests)
    assert model.rejections == []


async def test_a_failed_call_is_an_event_too(h: Harness) -> None:
    model = OfflineModel(script=[Reply.tool_call("retrieve_payment_status", "{oops"), "Sorry."])
    agent = h.agent(model, [retrieve_payment_status])

    events = await h.stream(agent, "status?")

    result_event = next(e for e in events if isinstance(e, ToolResultEvent))
    assert not result_event.ok
    assert result_event.outcome.content.startswith("Error: invalid arguments for tool 'retrieve_payment_status'")
    assert isinstance(events[-1], FinalResult) and events[-1].result.output == "Sorry."
    assert model.rejections == []


async def test_a_streamed_run_gives_the_same_result_as_a_plain_run(h: Harness) -> None:
    prompt = "What is the date of transaction T1003?"
    streamed_model, plain_model = OfflineModel(tool_call_streaming="incremental"), OfflineModel()

    events = await h.stream(h.agent(streamed_model, [retrieve_payment_date]), prompt)
    plain = await h.run(h.agent(plain_model, [retrieve_payment_date]), prompt)

    final = events[-1]
    assert isinstance(final, FinalResult)
    assert final.result.output == plain.output == "The date of transaction T1003 is 2021-10-07."
    assert [m.role for m in final.result.messages] == [m.role for m in plain.messages]
    assert [c.args for c in final.result.tool_calls] == [c.args for c in plain.tool_calls]
    assert streamed_model.rejections == [] and plain_model.rejections == []
