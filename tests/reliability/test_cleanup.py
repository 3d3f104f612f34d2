"""Cancellation and cleanup: no stray tasks or threads, sockets released, no ResourceWarning."""

from __future__ import annotations

import asyncio
import gc
import os
import threading
import time
import warnings
from collections.abc import Iterator

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient, tool
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

from .helpers import MESSAGES, MODEL, assert_no_busy_connection


def open_sockets() -> int:
    """Sockets this process holds open (Linux: /proc/self/fd)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


@pytest.fixture
def no_resource_warnings() -> Iterator[None]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
        gc.collect()
    leaked = [w for w in caught if issubclass(w.category, ResourceWarning)]
    assert leaked == [], [str(w.message) for w in leaked]


async def wait_for(predicate: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition never became true"
        await asyncio.sleep(0.01)


# ------------------------------------------------------------------------------------------------ cancellation
async def test_cancelling_arun_mid_async_tool_leaves_no_tasks_or_threads(no_resource_warnings: None) -> None:
    started, release = asyncio.Event(), asyncio.Event()
    finished: list[str] = []

    @tool
    async def slow(key: str) -> str:
        """Slow.

        Args:
            key: Key.
        """
        started.set()
        try:
            await release.wait()
        finally:
            finished.append(key)
        return "never"

    threads_before = set(threading.enumerate())
    model = OfflineModel(script=[Reply.tool_calls([("slow", {"key": "a"}), ("slow", {"key": "b"})]), "never"])
    with OfflineServer(model) as server:
        async with MistralAsyncClient(endpoint=server.url, max_retries=0) as client:
            agent = Agent(MODEL, [slow], client=client)
            task = asyncio.create_task(agent.arun("go"))
            await asyncio.wait_for(started.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert sorted(finished) == ["a", "b"]  # both tool coroutines were cancelled, not abandoned
            assert asyncio.all_tasks() == {asyncio.current_task()}
            assert_no_busy_connection(client)
            await agent.aclose()
    await wait_for(lambda: set(threading.enumerate()) <= threads_before)


async def test_cancelling_arun_mid_sync_tool_leaves_only_the_agents_pool(no_resource_warnings: None) -> None:
    started, release = threading.Event(), threading.Event()

    @tool
    def blocking(key: str) -> str:
        """Blocking.

        Args:
            key: Key.
        """
        started.set()
        release.wait(5)
        return "late"

    threads_before = set(threading.enumerate())
    model = OfflineModel(script=[Reply.tool_calls([("blocking", {"key": "a"}), ("blocking", {"key": "b"})]), "x"])
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, [blocking], client=client, max_concurrency=4)
    task = asyncio.create_task(agent.arun("go"))
    await asyncio.wait_for(asyncio.to_thread(started.wait, 5), 5)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert asyncio.all_tasks() == {asyncio.current_task()}
    extra = [t for t in threading.enumerate() if t not in threads_before and not t.name.startswith("asyncio_")]
    assert extra and all(t.name.startswith("mistral-agents-tool") for t in extra)
    assert len(extra) <= agent.max_concurrency
    release.set()  # a thread cannot be killed: the sync tool finishes, then the pool is shut down
    await agent.aclose()
    await client.close()
    await wait_for(lambda: not any(t.name.startswith("mistral-agents") for t in threading.enumerate()))


async def test_cancelling_a_streamed_run_mid_stream_releases_the_connection(no_resource_warnings: None) -> None:
    model = OfflineModel(script=[Reply.text(" ".join(["word"] * 200), chunk_delay=0.01)])
    with OfflineServer(model) as server:
        async with MistralAsyncClient(endpoint=server.url, max_retries=0) as client:
            agent = Agent(MODEL, [], client=client)
            seen = asyncio.Event()

            async def consume() -> None:
                async for _ in agent.arun_stream("go"):
                    seen.set()

            task = asyncio.create_task(consume())
            await asyncio.wait_for(seen.wait(), 5)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            await asyncio.sleep(0)
            assert_no_busy_connection(client)
            await agent.aclose()


# ------------------------------------------------------------------------------------------------ sockets
def test_a_sync_client_closed_by_its_context_manager_releases_its_sockets(no_resource_warnings: None) -> None:
    model = OfflineModel(policy=lambda body: "ok")
    with OfflineServer(model) as server:
        before = open_sockets()
        with MistralClient(endpoint=server.url, max_retries=0) as client:
            for _ in range(5):
                client.chat(MODEL, MESSAGES)
            assert open_sockets() > before
            list(client.chat_stream(MODEL, MESSAGES))
        time.sleep(0.05)
        assert open_sockets() == before


async def test_an_async_client_closed_by_its_context_manager_releases_its_sockets(no_resource_warnings: None) -> None:
    model = OfflineModel(policy=lambda body: "ok")
    with OfflineServer(model) as server:
        before = open_sockets()
        async with MistralAsyncClient(endpoint=server.url, max_retries=0) as client:
            await asyncio.gather(*(client.chat(MODEL, MESSAGES) for _ in range(10)))
            assert open_sockets() > before
        await asyncio.sleep(0.05)
        assert open_sockets() == before


def test_breaking_out_of_a_sync_stream_releases_the_connection(no_resource_warnings: None) -> None:
    model = OfflineModel(script=[Reply.text(" ".join(["word"] * 100))])
    with OfflineServer(model) as server, MistralClient(endpoint=server.url, max_retries=0) as client:
        stream = client.chat_stream(MODEL, MESSAGES)
        for _ in stream:
            break
        stream.close()  # what a for loop's generator gets when it is dropped
        assert_no_busy_connection(client)


async def test_breaking_out_of_an_async_stream_releases_the_connection(no_resource_warnings: None) -> None:
    model = OfflineModel(script=[Reply.text(" ".join(["word"] * 100))])
    with OfflineServer(model) as server:
        async with MistralAsyncClient(endpoint=server.url, max_retries=0) as client:
            stream = client.chat_stream(MODEL, MESSAGES)
            async for _ in stream:
                break
            await stream.aclose()  # type: ignore[attr-defined]
            assert_no_busy_connection(client)


def test_an_agent_used_as_a_context_manager_closes_what_it_created(no_resource_warnings: None) -> None:
    @tool
    def ping() -> str:
        """Ping."""
        return "pong"

    threads_before = set(threading.enumerate())
    model = OfflineModel(script=[Reply.tool_calls([("ping", {}), ("ping", {})]), "done"])
    with OfflineServer(model) as server:
        before = open_sockets()
        with MistralClient(endpoint=server.url, max_retries=0) as client, Agent(MODEL, [ping], client=client) as agent:
            assert agent.run("go").output == "done"
        time.sleep(0.05)
        assert open_sockets() == before
    deadline = time.monotonic() + 5
    while not set(threading.enumerate()) <= threads_before:
        assert time.monotonic() < deadline
        time.sleep(0.01)
