"""The fault matrix: every fault the network or the server can throw at a client, over real loopback HTTP.

Each scenario runs with the sync client (in a worker thread) and the async client, against the offline model on
an :class:`OfflineServer` (or a raw socket server when the fault is below HTTP). For each: the documented outcome
(retried then succeeded, or a typed exception with a readable message and ``attempts``), bounded time (no hang),
no connection left busy in the pool, and for the agent the transcript so far on the exception.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from collections.abc import AsyncIterator

import pytest

from mistral_agents import (
    Agent,
    BadRequestError,
    MistralAsyncClient,
    MistralConnectionException,
    MistralTimeoutException,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
    tool,
)
from mistral_agents.models.chat_completion import ChatCompletionStreamResponse
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

from .helpers import (
    KEY,
    MODEL,
    Flavour,
    RawServer,
    Sleeps,
    assert_no_busy_connection,
    closed_port,
    completion_json,
    http_response,
    pool_of,
    unaccepting_server,
)

BUSY = {"object": "error", "message": "Service overloaded", "type": "server_error", "code": "2000"}
RATE = {"object": "error", "message": "Rate limit exceeded", "type": "rate_limited", "code": "1300"}
HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1>"
    b"</center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@pytest.fixture(params=["sync", "async", "aiohttp", "sync-httpx2", "async-httpx2"])
async def fl(request: pytest.FixtureRequest) -> AsyncIterator[Flavour]:
    flavour = Flavour(request.param)
    pools = []
    try:
        yield flavour
        for client in flavour.clients:
            assert_no_busy_connection(client)
            pools.append(pool_of(client))
    finally:
        await flavour.close()
    for pool in pools:  # closed by close(): every socket released
        assert all(c.is_closed() for c in pool.connections)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def serve(*replies: Reply | str) -> OfflineServer:
    return OfflineServer(OfflineModel(script=list(replies), api_key=KEY)).start()


# ------------------------------------------------------------------------------------------------ 429
async def test_429_without_retry_after_is_retried_with_backoff(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.error(429, RATE), Reply.error(429, RATE), "done") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        response = await fl.chat(client)
    assert response.choices[0].message.content == "done"
    assert len(server.model.requests) == 3
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # exponential, with jitter


async def test_429_retry_after_seconds_is_honoured(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.error(429, RATE, headers={"Retry-After": "3"}), "done") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2, retry=sleeps.policy())
        response = await fl.chat(client)
    assert response.choices[0].message.content == "done"
    assert sleeps == [3.0]


async def test_429_retry_after_http_date_is_honoured(fl: Flavour, sleeps: Sleeps) -> None:
    when = email.utils.formatdate(time.time() + 20, usegmt=True)
    with serve(Reply.error(429, RATE, headers={"Retry-After": when}), "done") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2, retry=sleeps.policy())
        response = await fl.chat(client)
    assert response.choices[0].message.content == "done"
    [waited] = sleeps
    assert 17 <= waited <= 20.5


async def test_a_huge_retry_after_is_capped(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.error(429, RATE, headers={"Retry-After": "86400"}), "done") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=1, retry=sleeps.policy(max_retry_after=30))
        await fl.chat(client)
    assert sleeps == [30.0]


async def test_429_that_never_clears_gives_up_with_attempts(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(*[Reply.error(429, RATE, headers={"Retry-After": "1"})] * 3) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2, retry=sleeps.policy())
        with pytest.raises(RateLimitError) as caught:
            await fl.chat(client)
    error = caught.value
    assert error.attempts == 3 and error.status_code == 429
    assert str(error) == "429 rate_limited: Rate limit exceeded (gave up after 3 attempts)"
    assert sleeps == [1.0, 1.0]


# ------------------------------------------------------------------------------------------------ 5xx bursts
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_burst_shorter_than_max_retries_succeeds(fl: Flavour, sleeps: Sleeps, status: int) -> None:
    with serve(Reply.error(status, BUSY), Reply.error(status, BUSY), "recovered") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        response = await fl.chat(client)
    assert response.choices[0].message.content == "recovered"
    assert len(server.model.requests) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_5xx_burst_longer_than_max_retries_raises_server_error(fl: Flavour, sleeps: Sleeps, status: int) -> None:
    with serve(*[Reply.error(status, BUSY)] * 4, "too late") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        with pytest.raises(ServerError) as caught:
            await fl.chat(client)
        assert server.model.remaining == 1  # one attempt + three retries, then it stopped
    error = caught.value
    assert error.status_code == status and error.attempts == 4
    assert str(error) == f"{status} server_error: Service overloaded (gave up after 4 attempts)"
    assert error.code == "2000"


async def test_a_4xx_is_never_retried(fl: Flavour, sleeps: Sleeps) -> None:
    error_body = {"object": "error", "message": "Unexpected role 'user' after role 'tool'",
                  "type": "invalid_request_message_order", "param": None, "code": "3230"}  # fmt: skip
    with serve(Reply.error(400, error_body), "never") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=5, retry=sleeps.policy())
        with pytest.raises(BadRequestError) as caught:
            await fl.chat(client)
    assert caught.value.attempts == 1 and sleeps == []
    assert str(caught.value) == "400 invalid_request_message_order: Unexpected role 'user' after role 'tool'"


# ------------------------------------------------------------------------------------------------ connection faults
async def test_connection_refused_is_retried_then_raised(fl: Flavour, sleeps: Sleeps) -> None:
    client = fl.client(f"http://127.0.0.1:{closed_port()}", max_retries=2, retry=sleeps.policy())
    started = time.perf_counter()
    with pytest.raises(MistralConnectionException) as caught:
        await fl.chat(client)
    assert time.perf_counter() - started < 5
    error = caught.value
    assert not isinstance(error, MistralTimeoutException)
    assert error.attempts == 3 and len(sleeps) == 2
    assert str(error).startswith("connection error: ")
    assert "refused" in str(error).lower() or "all connection attempts failed" in str(error).lower()  # anyio
    assert str(error).endswith("(gave up after 3 attempts)")


async def test_server_disconnect_before_answering_is_retried(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.disconnect(), "after the reconnect") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2, retry=sleeps.policy())
        response = await fl.chat(client)
    assert response.choices[0].message.content == "after the reconnect"
    assert len(sleeps) == 1


async def test_server_that_always_disconnects_raises_a_connection_error(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.disconnect(), Reply.disconnect()) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=1, retry=sleeps.policy())
        with pytest.raises(MistralConnectionException) as caught:
            await fl.chat(client)
    assert caught.value.attempts == 2
    assert "disconnected" in str(caught.value).lower()


@pytest.mark.parametrize("reset", [False, True], ids=["fin", "rst"])
async def test_connection_dropped_mid_body_is_a_connection_error(fl: Flavour, sleeps: Sleeps, reset: bool) -> None:
    body = completion_json("cut short")
    response = http_response("200 OK", body[: len(body) // 2], length=len(body))
    with RawServer(response, reset=reset) as server:
        client = fl.client(server.url, max_retries=2, retry=sleeps.policy())
        with pytest.raises(MistralConnectionException) as caught:
            await fl.chat(client)
    assert caught.value.attempts == 3 and server.connections == 3
    assert str(caught.value).startswith("connection error: ")


# ------------------------------------------------------------------------------------------------ timeouts
async def test_read_timeout_when_the_server_stalls(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.text("late", delay=2.0), Reply.text("late", delay=2.0)) as server:
        client = fl.client(server.url, api_key=KEY, timeout=0.2, max_retries=1, retry=sleeps.policy())
        started = time.perf_counter()
        with pytest.raises(MistralTimeoutException) as caught:
            await fl.chat(client)
        elapsed = time.perf_counter() - started
    assert elapsed < 1.5  # two attempts of ~0.2 s, not the server's 2 s
    assert caught.value.attempts == 2
    assert str(caught.value) == "the request timed out (ReadTimeout) (gave up after 2 attempts)"


async def test_a_stall_then_a_prompt_answer_is_retried_and_succeeds(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.text("late", delay=2.0), "prompt") as server:
        client = fl.client(server.url, api_key=KEY, timeout=0.2, max_retries=1, retry=sleeps.policy())
        response = await fl.chat(client)
    assert response.choices[0].message.content == "prompt"


async def test_connect_timeout(fl: Flavour, sleeps: Sleeps) -> None:
    with unaccepting_server() as url:
        client = fl.client(url, timeout=0.2, max_retries=1, retry=sleeps.policy())
        with pytest.raises(MistralTimeoutException) as caught:
            await fl.chat(client)
    # Two attempts, each ended by the 0.2 s connect timeout (the server never accepts: no bound on the wait).
    assert str(caught.value) == "the request timed out (ConnectTimeout) (gave up after 2 attempts)"


async def test_a_stream_that_stalls_mid_way_times_out_with_the_chunks_so_far(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.text("one two three four", chunk_delay=2.0)) as server:
        client = fl.client(server.url, api_key=KEY, timeout=0.3, max_retries=3, retry=sleeps.policy())
        received: list[ChatCompletionStreamResponse] = []
        with pytest.raises(MistralTimeoutException) as caught:
            await fl.stream(client, received)
        assert len(server.model.requests) == 1  # a stream is never retried after its first byte
    # Only the first chunk: the read timed out before the stalled second one (2 s later) could arrive.
    assert len(received) == 1 and received[0].choices[0].delta.role == "assistant"
    assert caught.value.attempts == 1


async def test_a_whole_request_deadline_is_the_callers_and_cancels_cleanly() -> None:
    """httpx timeouts are per phase (connect/read/write/pool): a trickling stream never trips them. A deadline on
    the whole request is the caller's ``asyncio.timeout``/``wait_for``; cancelling must release the connection."""
    with serve(Reply.text(" ".join(["word"] * 50), chunk_delay=0.05)) as server:
        async with MistralAsyncClient(api_key=KEY, endpoint=server.url, timeout=0.5, max_retries=0) as client:
            received: list[ChatCompletionStreamResponse] = []

            async def consume() -> None:
                async for chunk in client.chat_stream(model=MODEL, messages=[{"role": "user", "content": "x"}]):
                    received.append(chunk)

            with pytest.raises(asyncio.TimeoutError):
                await asyncio.wait_for(consume(), 0.3)
            assert 0 < len(received) < 50
            await asyncio.sleep(0)
            assert_no_busy_connection(client)


# ------------------------------------------------------------------------------------------------ bad bodies
async def test_an_html_error_page_from_a_proxy_is_retried_then_readable(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(*[Reply.raw(502, HTML_502, "text/html")] * 2) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=1, retry=sleeps.policy())
        with pytest.raises(ServerError) as caught:
            await fl.chat(client)
    error = caught.value
    assert str(error) == "502 Bad Gateway: non-JSON response: 502 Bad Gateway (gave up after 2 attempts)"
    assert "<html" not in str(error) and error.attempts == 2


async def test_an_html_403_page_is_not_retried(fl: Flavour, sleeps: Sleeps) -> None:
    page = b"<html><body><h1>Access denied</h1><p>Your request was blocked.</p></body></html>"
    with serve(Reply.raw(403, page, "text/html")) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        with pytest.raises(PermissionDeniedError) as caught:
            await fl.chat(client)
    assert str(caught.value) == "403 Forbidden: non-JSON response: Access denied Your request was blocked."
    assert sleeps == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": "x", "choices": [{"index": 0, "message": {"role": "assist', "not valid JSON"),
        (b"<html>OK</html>", "not valid JSON"),
        (b"", "not valid JSON"),
        (b'{"choices": "not a list"}', "Input should be a valid array"),
        (b'["a", "list"]', "Input should be an object"),
    ],
    ids=["truncated", "html", "empty", "wrong-field-type", "not-an-object"],
)
async def test_a_200_with_a_malformed_body_is_a_decode_error_not_retried(
    fl: Flavour, sleeps: Sleeps, body: bytes, reason: str
) -> None:
    with serve(Reply.raw(200, body, "application/json"), "never") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        with pytest.raises(ResponseDecodeError) as caught:
            await fl.chat(client)
    error = caught.value
    assert str(error).startswith("200: could not read the ChatCompletionResponse in the response (")
    assert reason in str(error) and error.attempts == 1 and sleeps == []


async def test_invalid_utf8_in_a_200_body(fl: Flavour, sleeps: Sleeps) -> None:
    body = completion_json("CAFE").replace(b"CAFE", b"caf\xe9\xff")
    with serve(Reply.raw(200, body, "application/json")) as server:
        client = fl.client(server.url, api_key=KEY, retry=sleeps.policy())
        with pytest.raises(ResponseDecodeError) as caught:
            await fl.chat(client)
    assert "could not read the ChatCompletionResponse" in str(caught.value)


async def test_invalid_utf8_in_an_error_body(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.raw(400, b"bad \xff\xfe request", "text/plain")) as server:
        client = fl.client(server.url, api_key=KEY, retry=sleeps.policy())
        with pytest.raises(BadRequestError) as caught:
            await fl.chat(client)
    assert str(caught.value) == "400 Bad Request: non-JSON response: bad \ufffd\ufffd request"


# ------------------------------------------------------------------------------------------------ streams
def sse_chunk(content: str, finish_reason: str | None = None) -> bytes:
    event = {"id": "s", "object": "chat.completion.chunk", "created": 1, "model": MODEL,
             "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish_reason}]}  # fmt: skip
    return b"data: " + json.dumps(event).encode() + b"\n\n"


async def test_a_stream_cut_after_n_chunks_is_a_connection_error_with_the_chunks_so_far(
    fl: Flavour, sleeps: Sleeps
) -> None:
    with serve(Reply.text("one two three four five six", cut_after=3), "never") as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        received: list[ChatCompletionStreamResponse] = []
        with pytest.raises(MistralConnectionException) as caught:
            await fl.stream(client, received)
        assert server.model.remaining == 1  # not retried: the caller already has chunks
    assert len(received) == 3
    assert "".join(c.choices[0].delta.content or "" for c in received) == "one two "
    assert str(caught.value).startswith("connection error: ") and caught.value.attempts == 1


async def test_a_stream_cut_before_any_chunk_is_retried(fl: Flavour, sleeps: Sleeps) -> None:
    with serve(Reply.disconnect(), Reply.text("whole answer")) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=1, retry=sleeps.policy())
        received: list[ChatCompletionStreamResponse] = []
        await fl.stream(client, received)
    assert "".join(c.choices[0].delta.content or "" for c in received) == "whole answer"


async def test_a_stream_without_done_but_with_a_finish_reason_completes(fl: Flavour) -> None:
    with serve(Reply.text("all of it", omit_done=True)) as server:
        client = fl.client(server.url, api_key=KEY)
        received: list[ChatCompletionStreamResponse] = []
        await fl.stream(client, received)
    assert "".join(c.choices[0].delta.content or "" for c in received) == "all of it"
    assert received[-1].choices[0].finish_reason == "stop"


async def test_a_stream_without_done_or_finish_reason_is_incomplete(fl: Flavour) -> None:
    body = sse_chunk("half ") + sse_chunk("an answer")
    with serve(Reply.raw(200, body, "text/event-stream")) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2)
        received: list[ChatCompletionStreamResponse] = []
        with pytest.raises(MistralConnectionException) as caught:
            await fl.stream(client, received)
    assert len(received) == 2
    assert str(caught.value) == "the stream ended before it was complete (no [DONE], no finish reason)"


async def test_invalid_utf8_in_a_stream_is_a_decode_error_after_the_good_chunks(fl: Flavour) -> None:
    body = sse_chunk("fine ") + sse_chunk("BROKEN").replace(b"BROKEN", b"\xff\xfe") + sse_chunk("", "stop")
    with serve(Reply.raw(200, body + b"data: [DONE]\n\n", "text/event-stream")) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2)
        received: list[ChatCompletionStreamResponse] = []
        with pytest.raises(ResponseDecodeError) as caught:
            await fl.stream(client, received)
    assert [c.choices[0].delta.content for c in received] == ["fine "]
    assert str(caught.value) == "the event stream is not valid UTF-8 (byte 141 of an event)"


async def test_a_malformed_event_in_a_stream_is_a_decode_error(fl: Flavour) -> None:
    body = sse_chunk("fine ") + b"data: {not json\n\n"
    with serve(Reply.raw(200, body, "text/event-stream")) as server:
        client = fl.client(server.url, api_key=KEY)
        received: list[ChatCompletionStreamResponse] = []
        with pytest.raises(ResponseDecodeError) as caught:
            await fl.stream(client, received)
    assert len(received) == 1 and "not valid JSON" in str(caught.value)


async def test_an_error_event_mid_stream_is_an_api_error(fl: Flavour) -> None:
    body = sse_chunk("fine ") + b'data: {"object": "error", "message": "internal failure", "type": "server_error"}\n\n'
    with serve(Reply.raw(200, body, "text/event-stream")) as server:
        client = fl.client(server.url, api_key=KEY)
        received: list[ChatCompletionStreamResponse] = []
        with pytest.raises(Exception) as caught:
            await fl.stream(client, received)
    assert str(caught.value) == "error in the stream: internal failure"


# ------------------------------------------------------------------------------------------------ the agent
@tool
def lookup(key: str) -> str:
    """Look a key up.

    Args:
        key: The key.
    """
    return f"value-of-{key}"


async def run_agent(fl: Flavour, agent: Agent, *, stream: bool = False) -> None:
    if fl.is_sync:
        if stream:
            await asyncio.to_thread(lambda: list(agent.run_stream("look up k1")))
        else:
            await asyncio.to_thread(agent.run, "look up k1")
    elif stream:
        async for _ in agent.arun_stream("look up k1"):
            pass
    else:
        await agent.arun("look up k1")


@pytest.mark.parametrize("stream", [False, True], ids=["run", "stream"])
async def test_a_fault_ending_an_agent_run_keeps_the_transcript(fl: Flavour, sleeps: Sleeps, stream: bool) -> None:
    with serve(Reply.tool_call("lookup", {"key": "k1"}), *[Reply.error(503, BUSY)] * 3) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2, retry=sleeps.policy())
        agent = Agent(MODEL, [lookup], client=client)
        with pytest.raises(ServerError) as caught:
            await run_agent(fl, agent, stream=stream)
        await agent.aclose()
        assert server.model.rejections == []
    error = caught.value
    assert error.attempts == 3
    assert [m.role for m in error.messages or []] == ["user", "assistant", "tool"]
    assert error.messages[-1].content == "value-of-k1"


async def test_a_stream_cut_during_an_agent_run_keeps_the_transcript(fl: Flavour) -> None:
    with serve(Reply.tool_call("lookup", {"key": "k1"}), Reply.text("the value is value-of-k1", cut_after=2)) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=2)
        agent = Agent(MODEL, [lookup], client=client)
        with pytest.raises(MistralConnectionException) as caught:
            await run_agent(fl, agent, stream=True)
        await agent.aclose()
    assert [m.role for m in caught.value.messages or []] == ["user", "assistant", "tool"]


async def test_an_agent_recovers_from_a_transient_fault_without_losing_anything(fl: Flavour, sleeps: Sleeps) -> None:
    script = [Reply.tool_call("lookup", {"key": "k1"}), Reply.error(502, BUSY), Reply.disconnect(),
              "The value is value-of-k1."]  # fmt: skip
    with serve(*script) as server:
        client = fl.client(server.url, api_key=KEY, max_retries=3, retry=sleeps.policy())
        agent = Agent(MODEL, [lookup], client=client)
        if fl.is_sync:
            result = await asyncio.to_thread(agent.run, "look up k1")
        else:
            result = await agent.arun("look up k1")
        await agent.aclose()
        assert server.model.rejections == []
    assert result.output == "The value is value-of-k1."
    assert [m.role for m in result.messages] == ["user", "assistant", "tool", "assistant"]
    assert len(sleeps) == 2
