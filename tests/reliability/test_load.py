"""Load: many concurrent conversations through ONE client, against the offline model on real loopback HTTP.

The server runs in a child process (``load_server``) so its threads do not share the test's GIL.

Each conversation asks about its own id; the tool answers with data derived from that id, and the model's final
answer repeats what the tool said. A conversation that ever saw another's data (crossed responses, shared state,
a transcript mix-up) fails its assertion.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx

from mistral_agents import Agent, MistralAsyncClient, MistralClient, tool

from .helpers import MODEL, assert_no_busy_connection
from .load_server import served_in_a_subprocess

#: The offline server is a stdlib threaded server: on 2 cores it serves best with a few busy connections.
LIMITS = httpx.Limits(max_connections=16, max_keepalive_connections=16)


def secret_of(n: int) -> str:
    """Data only conversation ``n`` may see."""
    return f"S{(n * 7919 + 13) % 1_000_003:07d}-{n}"


@tool
async def fetch_record(record_id: int) -> str:
    """Fetch a record.

    Args:
        record_id: The record number.
    """
    await asyncio.sleep(0.001)  # let other conversations interleave
    return secret_of(record_id)


@tool
def fetch_record_sync(record_id: int) -> str:
    """Fetch a record.

    Args:
        record_id: The record number.
    """
    time.sleep(0.0005)
    return secret_of(record_id)


def check(n: int, output: str, messages: list[Any]) -> None:
    assert output == f"Record data: {secret_of(n)}", (n, output)
    tool_results = [m.content for m in messages if m.role == "tool"]
    assert tool_results == [secret_of(n)], (n, tool_results)
    assert messages[0].content == f"What is in record {n}?"


async def test_1000_concurrent_async_conversations_on_one_client() -> None:
    conversations = 1000
    with served_in_a_subprocess() as url:
        http = httpx.AsyncClient(limits=LIMITS, timeout=30)
        async with http, MistralAsyncClient(endpoint=url, max_retries=2, http_client=http) as client:
            agent = Agent(MODEL, [fetch_record], client=client)
            started = time.perf_counter()
            results = await asyncio.wait_for(
                asyncio.gather(*(agent.arun(f"What is in record {n}?") for n in range(conversations))), 60
            )
            elapsed = time.perf_counter() - started
            for n, result in enumerate(results):
                check(n, result.output, result.messages)
            assert_no_busy_connection(client)
            await agent.aclose()
    print(f"{conversations} async conversations in {elapsed:.2f} s")


def test_a_sync_client_shared_by_16_threads() -> None:
    threads, per_thread = 16, 25
    failures: list[BaseException] = []
    seen_threads: set[str] = set()
    with served_in_a_subprocess() as url, MistralClient(endpoint=url, max_retries=2, timeout=30) as client:
        agent = Agent(MODEL, [fetch_record_sync], client=client)

        def worker(first: int) -> None:
            seen_threads.add(threading.current_thread().name)
            for n in range(first, first + per_thread):
                try:
                    result = agent.run(f"What is in record {n}?")
                    check(n, result.output, result.messages)
                except BaseException as error:  # collected, re-raised below
                    failures.append(error)

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(worker, range(0, threads * per_thread, per_thread)))
        agent.close()
        assert_no_busy_connection(client)
    assert failures == []
    assert len(seen_threads) == threads


async def test_concurrent_streams_on_one_async_client_are_not_crossed() -> None:
    with served_in_a_subprocess() as url:
        http = httpx.AsyncClient(limits=LIMITS, timeout=30)
        async with http, MistralAsyncClient(endpoint=url, max_retries=0, http_client=http) as client:

            async def one(n: int) -> str:
                parts = []
                messages = [{"role": "user", "content": f"n{n}"}]
                async for chunk in client.chat_stream(model=MODEL, messages=messages):
                    parts.append(chunk.choices[0].delta.content or "")
                return "".join(parts)

            answers = await asyncio.wait_for(asyncio.gather(*(one(n) for n in range(200))), 30)
            assert answers == [f"echo n{n}" for n in range(200)]
            assert_no_busy_connection(client)


async def test_in_flight_requests_on_a_caller_owned_client_are_gated_to_its_pool_size() -> None:
    """httpcore rescans its whole wait queue per request; the client keeps that queue short instead."""
    http = httpx.AsyncClient(limits=LIMITS)
    async with http, MistralAsyncClient(endpoint="http://127.0.0.1:9", http_client=http) as shared:
        assert shared._gate is not None and shared._gate._value == 16
