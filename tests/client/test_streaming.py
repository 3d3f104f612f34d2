"""Streaming: SSE framing, [DONE], whole and incremental tool calls, errors before and during the stream."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from mistral_agents import (
    MistralAPIException,
    MistralAsyncClient,
    MistralClient,
    MistralConnectionException,
    RateLimitError,
    ResponseDecodeError,
    RetryPolicy,
    StreamAccumulator,
    amerge_stream,
    merge_stream,
)
from mistral_agents._sse import SSEDecoder

from .helpers import KEY, Recorder, chunk, sse

MESSAGES = [{"role": "user", "content": "hi"}]
USAGE = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}

TEXT_STREAM = sse(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Hello"}, p="padding"),
        chunk({"content": ", world"}),
        chunk({"content": "!"}, "stop", usage=USAGE),
        "[DONE]",
    ]
)


def streaming(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body, headers={"content-type": "text/event-stream"})


def test_text_stream_yields_chunks_and_merges() -> None:
    rec = Recorder(streaming(TEXT_STREAM))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        chunks = list(client.chat_stream("m", MESSAGES, temperature=0))
    assert [c.choices[0].delta.content for c in chunks] == ["", "Hello", ", world", "!"]
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens == 7
    assert rec.bodies[0] == {"model": "m", "messages": MESSAGES, "stream": True, "temperature": 0}
    assert rec.requests[0].headers["accept"] == "text/event-stream"
    merged = merge_stream(chunks)
    assert merged.choices[0].message.content == "Hello, world!"
    assert merged.choices[0].finish_reason == "stop"
    assert merged.usage.total_tokens == 7


WHOLE_CALLS = sse(
    [
        chunk({"role": "assistant", "content": ""}),
        chunk(
            {
                "tool_calls": [
                    {"id": "D681PevKs", "function": {"name": "status", "arguments": '{"id": "T1"}'}, "index": 0},
                    {"id": "Q9x8w7v6u", "function": {"name": "date", "arguments": '{"id": "T1"}'}, "index": 1},
                ]
            },
            "tool_calls",
            usage=USAGE,
        ),
        "[DONE]",
    ]
)

INCREMENTAL_CALLS = sse(
    [
        chunk({"role": "assistant", "content": None}),
        chunk(
            {
                "tool_calls": [
                    {"index": 0, "id": "call_abc", "type": "function", "function": {"name": "status", "arguments": ""}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"id": '}}]}),
        chunk(
            {
                "tool_calls": [
                    {"index": 1, "id": "call_def", "type": "function", "function": {"name": "date", "arguments": ""}}
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"T1"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": '{"id": "T1"}'}}]}),
        chunk({}, "tool_calls"),
        "[DONE]",
    ]
)


@pytest.mark.parametrize(
    ("body", "ids"), [(WHOLE_CALLS, ["D681PevKs", "Q9x8w7v6u"]), (INCREMENTAL_CALLS, ["call_abc", "call_def"])]
)
def test_tool_calls_merge_whole_or_incremental(body: bytes, ids: list[str]) -> None:
    rec = Recorder(streaming(body))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        merged = merge_stream(client.chat_stream("m", MESSAGES))
    calls = merged.choices[0].message.tool_calls
    assert calls is not None
    assert [c.id for c in calls] == ids
    assert [c.function.name for c in calls] == ["status", "date"]
    assert [json.loads(c.function.arguments) for c in calls] == [{"id": "T1"}, {"id": "T1"}]
    assert merged.choices[0].finish_reason == "tool_calls"


def test_whole_calls_without_index_in_separate_deltas_stay_separate() -> None:
    acc = StreamAccumulator()
    for delta in (
        {"tool_calls": [{"id": "AAAAAAAA1", "function": {"name": "a", "arguments": "{}"}}]},
        {"tool_calls": [{"id": "BBBBBBBB2", "function": {"name": "b", "arguments": "{}"}}]},
    ):
        from mistral_agents import ChatCompletionStreamResponse

        acc.add(ChatCompletionStreamResponse.model_validate(chunk(delta)))
    calls = acc.message.tool_calls
    assert calls is not None
    assert [(c.id, c.function.name) for c in calls] == [("AAAAAAAA1", "a"), ("BBBBBBBB2", "b")]


async def test_async_stream_is_an_async_iterator_without_await() -> None:
    rec = Recorder(streaming(INCREMENTAL_CALLS), streaming(TEXT_STREAM))
    async with MistralAsyncClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        merged = await amerge_stream(client.chat_stream("m", MESSAGES))
        texts = [c.choices[0].delta.content async for c in client.chat_stream("m", MESSAGES)]
    assert merged.choices[0].message.tool_calls is not None
    assert len(merged.choices[0].message.tool_calls) == 2
    assert texts == ["", "Hello", ", world", "!"]


def test_error_status_before_the_stream_is_retried(sleeps: list[float]) -> None:
    rec = Recorder(httpx.Response(429, json={"message": "slow"}), streaming(TEXT_STREAM))
    policy = RetryPolicy(sleep=sleeps.append)
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec), retry=policy) as client:
        assert merge_stream(client.chat_stream("m", MESSAGES)).choices[0].message.content == "Hello, world!"
    assert len(rec.requests) == 2


def test_error_status_on_a_stream_raises_typed_error() -> None:
    rec = Recorder(httpx.Response(429, json={"message": "slow"}))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec), max_retries=0) as client:
        with pytest.raises(RateLimitError, match="429"):
            list(client.chat_stream("m", MESSAGES))


class _CutStream(httpx.SyncByteStream):
    def __iter__(self) -> Iterator[bytes]:
        yield sse([chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"})])
        raise httpx.ReadError("connection reset by peer")


def test_stream_cut_after_first_bytes_is_not_retried() -> None:
    rec = Recorder(lambda request: httpx.Response(200, stream=_CutStream()))
    received: list[str | None] = []
    with MistralClient(
        api_key=KEY, transport=httpx.MockTransport(rec), retry=RetryPolicy(sleep=lambda s: None)
    ) as client:
        with pytest.raises(MistralConnectionException, match="reset"):
            for c in client.chat_stream("m", MESSAGES):
                received.append(c.choices[0].delta.content)  # type: ignore[arg-type]
    assert received == ["", "Hel"]
    assert len(rec.requests) == 1


def test_stream_without_done_or_finish_reason_is_an_error() -> None:
    body = sse([chunk({"role": "assistant", "content": ""}), chunk({"content": "Hel"})])
    rec = Recorder(streaming(body))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        with pytest.raises(MistralConnectionException, match="before it was complete"):
            list(client.chat_stream("m", MESSAGES))


def test_stream_without_done_but_finished_is_accepted() -> None:
    body = sse([chunk({"content": "Hi"}), chunk({"content": "!"}, "stop")])
    rec = Recorder(streaming(body))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        assert merge_stream(client.chat_stream("m", MESSAGES)).choices[0].message.content == "Hi!"


def test_error_event_inside_the_stream_raises() -> None:
    body = sse([chunk({"content": "Hi"}), {"object": "error", "message": "model overloaded", "type": "server_error"}])
    rec = Recorder(streaming(body))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        with pytest.raises(MistralAPIException, match="model overloaded"):
            list(client.chat_stream("m", MESSAGES))


def test_invalid_utf8_in_stream_is_a_decode_error() -> None:
    rec = Recorder(streaming(b'data: {"choices": [{"delta": {"content": "\xff\xfe"}}]}\n\n'))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        with pytest.raises(ResponseDecodeError, match="UTF-8"):
            list(client.chat_stream("m", MESSAGES))


def test_sse_comments_multiline_data_and_other_fields() -> None:
    body = b": keep-alive\nevent: message\nid: 3\ndata: line one\ndata: line two\n\ndata:no-space\n\n"
    decoder = SSEDecoder()
    assert decoder.feed(body) + decoder.flush() == ["line one\nline two", "no-space"]
    # Chunk-boundary independence is a property test: tests/reliability/test_properties.py.
