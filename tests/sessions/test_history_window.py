"""HistoryWindow: only recent whole turns are sent; the system prompt stays; the session keeps everything."""

from __future__ import annotations

import json

import pytest

from mistral_agents import Agent, ChatMessage, HistoryWindow, MistralClient
from mistral_agents._wire import message_dict
from mistral_agents.models import FunctionCall, ToolCall
from mistral_agents.sessions import SQLiteSession
from mistral_agents.testing import OfflineModel, check_chat_request
from tests.agent.helpers import MODEL, retrieve_payment_status


def turn(n: int) -> list[ChatMessage]:
    call = ToolCall(id=f"call{n:05d}", function=FunctionCall(name="lookup", arguments=json.dumps({"n": n})))
    return [
        ChatMessage(role="user", content=f"question {n}"),
        ChatMessage(role="assistant", content="", tool_calls=[call]),
        ChatMessage(role="tool", tool_call_id=call.id, name="lookup", content=f"result {n}"),
        ChatMessage(role="assistant", content=f"answer {n}"),
    ]


HISTORY = [ChatMessage(role="system", content="Be brief.")] + [m for n in range(10) for m in turn(n)]


def test_the_last_messages_start_at_a_user_turn_and_keep_the_system_prompt() -> None:
    sent = HistoryWindow(max_messages=10).apply(HISTORY)
    assert sent[0] == HISTORY[0]
    assert sent[1:] == HISTORY[-8:]  # 10 would cut into a turn: two whole turns fit
    assert HistoryWindow(max_messages=3).apply(HISTORY)[1:] == HISTORY[-4:]  # the latest turn, whole


def test_a_token_budget_counts_the_system_prompt_and_never_splits_a_tool_call_from_its_result() -> None:
    window = HistoryWindow(max_tokens=200)
    sent = window.apply(HISTORY)
    assert sent[0].role == "system" and sent[1].role == "user"
    assert sum(window.estimate(m) for m in sent) <= 200
    assert sum(window.estimate(m) for m in [HISTORY[0], *HISTORY[-(len(sent) + 3) :]]) > 200  # one more turn: over
    ids = {c.id for m in sent for c in m.tool_calls or ()}
    assert ids == {m.tool_call_id for m in sent if m.role == "tool"}


def test_a_window_needs_a_limit() -> None:
    with pytest.raises(ValueError, match="max_messages or max_tokens"):
        HistoryWindow()
    with pytest.raises(ValueError, match="positive"):
        HistoryWindow(max_messages=0)


def test_a_500_turn_session_sends_a_bounded_request_and_keeps_every_message() -> None:
    model = OfflineModel()  # looks the transaction up, then answers: four messages per turn
    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    window = HistoryWindow(max_tokens=1500)
    agent = Agent(MODEL, [retrieve_payment_status], client=client, system_prompt="You help.", history_window=window)
    session = SQLiteSession("long")
    session.add_messages([m for n in range(470) for m in turn(n)])  # 470 turns already stored, then 30 runs
    for n in range(470, 500):
        agent.run(f"What's the status of my transaction T100{1 + n % 3}? ({n})", session=session)

    stored = session.get_messages()
    assert len(stored) == 2000 and [m.role for m in stored[-4:]] == ["user", "assistant", "tool", "assistant"]
    sizes = [len(json.dumps(request["messages"])) for request in model.chat_requests]
    one_turn = len(json.dumps([message_dict(m) for m in stored[-4:]]))
    everything = len(json.dumps([message_dict(m) for m in stored]))
    assert max(sizes) <= 1500 * window.chars_per_token + 2 * one_turn < everything / 20  # bounded
    for request in model.chat_requests:
        messages = request["messages"]
        assert messages[0] == {"role": "system", "content": "You help."} and messages[1]["role"] == "user"
    assert model.rejections == []  # every windowed request valid
    whole = [{"role": "system", "content": "You help."}, *map(message_dict, stored), {"role": "user", "content": "?"}]
    assert check_chat_request({"model": MODEL, "messages": whole}) is None  # and the stored transcript too
    client.close()
