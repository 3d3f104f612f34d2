"""The offline model on a real loopback HTTP/1.1 server: sync and async clients, streaming, shutdown."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from mistral_agents.testing import OfflineModel, OfflineServer, Reply

from .helpers import MODEL, PAYMENT_TOOLS, sse_events


@pytest.fixture
def server() -> Iterator[OfflineServer]:
    with OfflineServer(OfflineModel(api_key="sk-test")) as server:
        yield server


def headers() -> dict[str, str]:
    return {"Authorization": "Bearer sk-test"}


def test_it_listens_on_loopback_with_a_free_port(server: OfflineServer) -> None:
    assert server.url == f"http://127.0.0.1:{server.port}"
    assert server.port > 0


def test_a_sync_client_walks_the_payment_conversation(server: OfflineServer) -> None:
    messages = [{"role": "user", "content": "What's the status of my transaction T1001?"}]
    with httpx.Client(base_url=server.url, headers=headers()) as client:
        body = {"model": MODEL, "messages": messages, "tools": PAYMENT_TOOLS}
        message = client.post("/v1/chat/completions", json=body).json()["choices"][0]["message"]
        [call] = message["tool_calls"]
        messages += [
            {"role": "assistant", "content": "", "tool_calls": message["tool_calls"]},
            {
                "role": "tool",
                "name": "retrieve_payment_status",
                "content": '{"status": "Paid"}',
                "tool_call_id": call["id"],
            },
        ]
        final = client.post("/v1/chat/completions", json={**body, "messages": messages}).json()
    assert final["choices"][0]["message"]["content"] == "The status of transaction T1001 is Paid."
    assert server.model.rejections == []


def test_rule_violations_and_auth_errors_come_back_over_http(server: OfflineServer) -> None:
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/v1/models").status_code == 401
        client.headers.update(headers())
        bad = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream_options": {}}
        response = client.post("/v1/chat/completions", json=bad)
    assert response.status_code == 422
    assert response.json()["message"]["detail"][0]["loc"] == ["body", "stream_options"]


def test_streams_are_flushed_event_by_event(server: OfflineServer) -> None:
    body = {"model": MODEL, "messages": [{"role": "user", "content": "Tell me something"}], "stream": True}
    with (
        httpx.Client(base_url=server.url, headers=headers()) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        assert response.headers["content-type"] == "text/event-stream"
        raw = "".join(response.iter_text())
    events = sse_events(raw)
    assert events[-1] == "[DONE]"
    assert "".join(e["choices"][0]["delta"]["content"] for e in events[:-1])


def test_chunk_delays_are_felt_between_events() -> None:
    model = OfflineModel(script=[Reply.text("a b c", chunk_delay=0.1)])
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True}
    arrivals = []
    with (
        OfflineServer(model) as server,
        httpx.Client(base_url=server.url) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        for line in response.iter_lines():
            if line.startswith("data:"):
                arrivals.append(time.perf_counter())
    assert len(arrivals) == 5  # the role delta, three words, [DONE]
    assert arrivals[-1] - arrivals[0] >= 0.3  # four pauses of 0.1 s, with scheduling slack


def test_a_cut_stream_is_a_protocol_error_for_the_client() -> None:
    model = OfflineModel(script=[Reply.text("one two three", cut_after=2)])
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}], "stream": True}
    with (
        OfflineServer(model) as server,
        httpx.Client(base_url=server.url) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        for _ in response.iter_bytes():
            pass


def test_a_disconnect_is_a_protocol_error_for_the_client() -> None:
    model = OfflineModel(script=[Reply.disconnect()])
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}
    with (
        OfflineServer(model) as server,
        httpx.Client(base_url=server.url) as client,
        pytest.raises(httpx.RemoteProtocolError),
    ):
        client.post("/v1/chat/completions", json=body)


async def test_an_async_client_with_concurrent_requests(server: OfflineServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, headers=headers()) as client:
        responses = await asyncio.gather(
            *(client.post("/v1/embeddings", json={"model": "mistral-embed", "input": f"text {i}"}) for i in range(20))
        )
    assert [r.status_code for r in responses] == [200] * 20
    assert len({json.dumps(r.json()["data"][0]["embedding"][:4]) for r in responses}) == 20
    assert len(server.model.requests) == 20


async def test_async_streaming_over_the_server(server: OfflineServer) -> None:
    body = {
        "model": MODEL,
        "messages": [{"role": "user", "content": "Status of T1001?"}],
        "stream": True,
        "tools": PAYMENT_TOOLS,
    }
    async with (
        httpx.AsyncClient(base_url=server.url, headers=headers()) as client,
        client.stream("POST", "/v1/chat/completions", json=body) as response,
    ):
        raw = "".join([text async for text in response.aiter_text()])
    events = sse_events(raw)
    [call] = events[1]["choices"][0]["delta"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"transaction_id": "T1001"}


def test_close_stops_every_thread_even_with_open_keep_alive_connections() -> None:
    before = set(threading.enumerate())
    server = OfflineServer(OfflineModel()).start()
    client = httpx.Client(base_url=server.url)
    assert client.get("/v1/models").status_code == 200  # the connection stays open (keep-alive)
    server.close()
    client.close()
    leftover = [t for t in set(threading.enumerate()) - before if t.is_alive()]
    assert leftover == []
    with pytest.raises(httpx.ConnectError), httpx.Client(base_url=server.url) as fresh:
        fresh.get("/v1/models")
    server.close()  # twice is fine


def test_close_interrupts_a_long_delay() -> None:
    model = OfflineModel(script=[Reply.text("never", delay=30)])
    server = OfflineServer(model).start()
    failures: list[BaseException] = []

    def call() -> None:
        try:
            httpx.post(
                f"{server.url}/v1/chat/completions",
                json={"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
                timeout=10,
            )
        except httpx.HTTPError as error:
            failures.append(error)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    started = time.perf_counter()
    server.close()
    caller.join(5)
    assert time.perf_counter() - started < 3
    assert len(failures) == 1


def test_the_command_line_serves_until_interrupted() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mistral_agents.testing", "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split("listening on ", 1)[1].split()[0]
        response = httpx.post(
            f"{url}/v1/chat/completions", json={"model": MODEL, "messages": [{"role": "user", "content": "hello"}]}
        )
        assert response.json()["choices"][0]["message"]["content"] == "Hello! How can I help you today?"
        process.send_signal(signal.SIGINT)  # Ctrl-C
        assert process.wait(10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        assert process.stdout is not None
        process.stdout.close()
