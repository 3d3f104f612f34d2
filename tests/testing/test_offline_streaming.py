"""SSE framing as the hosted API sends it: text in pieces, tool calls whole or incremental, usage last."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from mistral_agents.testing import OfflineModel, Reply

from .helpers import MODEL, PAYMENT_TOOLS, sse_events


def stream(model: OfflineModel, **fields: Any) -> tuple[httpx.Response, list[Any]]:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True, **fields}
    with httpx.Client(transport=model.transport(), base_url="http://offline") as client:
        response = client.post("/v1/chat/completions", json=body, headers={"Accept": "text/event-stream"})
    return response, sse_events(response.text)


def deltas(events: list[Any]) -> list[dict[str, Any]]:
    return [event["choices"][0]["delta"] for event in events if event != "[DONE]"]


def test_text_streams_in_several_pieces_and_ends_with_done() -> None:
    response, events = stream(OfflineModel(script=["The status is Paid."]))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert events[-1] == "[DONE]"
    parts = deltas(events)
    assert parts[0] == {"role": "assistant", "content": ""}
    content = [d["content"] for d in parts[1:]]
    assert len(content) >= 2
    assert "".join(content) == "The status is Paid."
    assert all(e["object"] == "chat.completion.chunk" for e in events[:-1])
    assert len({e["id"] for e in events[:-1]}) == 1


def test_a_one_word_answer_still_takes_two_chunks() -> None:
    _, events = stream(OfflineModel(script=["Paid"]))
    assert [d["content"] for d in deltas(events)[1:]] == ["Pa", "id"]


def test_usage_and_finish_reason_come_only_in_the_last_chunk() -> None:
    _, events = stream(OfflineModel(script=["one two three"]))
    chunks = events[:-1]
    assert [("usage" in c) for c in chunks] == [False] * (len(chunks) - 1) + [True]
    assert [c["choices"][0]["finish_reason"] for c in chunks] == [None] * (len(chunks) - 1) + ["stop"]
    usage = chunks[-1]["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_mistral_tool_calls_arrive_whole_in_one_delta() -> None:
    reply = Reply.tool_calls(
        [
            ("retrieve_payment_status", {"transaction_id": "T1001"}),
            ("retrieve_payment_date", {"transaction_id": "T1001"}),
        ]
    )
    _, events = stream(OfflineModel(script=[reply]), tools=PAYMENT_TOOLS)
    parts = deltas(events)
    assert len(parts) == 2
    calls = parts[1]["tool_calls"]
    assert [c["index"] for c in calls] == [0, 1]
    assert all(len(c["id"]) == 9 and c["id"].isalnum() for c in calls)
    assert json.loads(calls[1]["function"]["arguments"]) == {"transaction_id": "T1001"}
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert "usage" in events[-2]


def accumulate(parts: list[dict[str, Any]]) -> dict[int, dict[str, str]]:
    calls: dict[int, dict[str, str]] = {}
    for delta in parts:
        for fragment in delta.get("tool_calls") or []:
            call = calls.setdefault(fragment["index"], {"id": "", "name": "", "arguments": ""})
            call["id"] = call["id"] or fragment.get("id") or ""
            call["name"] = call["name"] or fragment.get("function", {}).get("name") or ""
            call["arguments"] += fragment.get("function", {}).get("arguments") or ""
    return calls


def test_incremental_tool_call_streaming_sends_openai_style_fragments() -> None:
    model = OfflineModel(
        script=[Reply.tool_call("retrieve_payment_status", {"transaction_id": "T1001"})],
        tool_call_streaming="incremental",
    )
    _, events = stream(model, tools=PAYMENT_TOOLS)
    parts = deltas(events)
    opening = parts[1]["tool_calls"][0]
    assert opening["function"] == {"name": "retrieve_payment_status", "arguments": ""}
    assert len(opening["id"]) == 9
    fragments = [d["tool_calls"][0] for d in parts[2:] if d.get("tool_calls")]
    assert len(fragments) >= 2
    assert all(set(f) == {"index", "function"} and f["index"] == 0 for f in fragments)
    assert accumulate(parts)[0]["arguments"] == '{"transaction_id": "T1001"}'
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"


def test_openai_compatible_mode_streams_call_ids_incrementally_and_usage_only_on_request() -> None:
    model = OfflineModel(openai_compatible=True)
    messages = [{"role": "user", "content": "What's the status of T1001 and when was it paid?"}]
    _, events = stream(model, messages=messages, tools=PAYMENT_TOOLS, tool_choice="required")
    calls = accumulate(deltas(events))
    assert [c["name"] for c in calls.values()] == ["retrieve_payment_status", "retrieve_payment_date"]
    assert all(c["id"].startswith("call_") and len(c["id"]) == 29 for c in calls.values())
    assert not any("usage" in e for e in events[:-1])
    _, events = stream(model, stream_options={"include_usage": True})
    assert "usage" in events[-2]


def test_stream_can_be_cut_after_n_chunks() -> None:
    model = OfflineModel(script=[Reply.text("one two three four").with_(cut_after=2)])
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    received = []
    with (
        httpx.Client(transport=model.transport(), base_url="http://offline") as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        with pytest.raises(httpx.RemoteProtocolError):
            for chunk in response.iter_bytes():
                received.append(chunk)
    assert len(sse_events(b"".join(received).decode())) == 2


def test_stream_can_end_without_done() -> None:
    _, events = stream(OfflineModel(script=[Reply.text("Hello there", omit_done=True)]))
    assert "[DONE]" not in events
    assert events[-1]["choices"][0]["finish_reason"] == "stop"


async def test_async_streaming_yields_the_same_bytes() -> None:
    model = OfflineModel(script=["Hello async world"] * 2)
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Hi"}], "stream": True}
    async with httpx.AsyncClient(transport=model.transport(), base_url="http://offline") as client:
        pieces = []
        async with client.stream("POST", "/v1/chat/completions", json=body) as response:
            async for piece in response.aiter_bytes():
                pieces.append(piece)
    sync_response, _ = stream(model)
    assert b"".join(pieces) == sync_response.content
    assert len(pieces) > 3, "each SSE event is its own chunk"
