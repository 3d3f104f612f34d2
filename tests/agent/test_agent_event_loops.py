"""Clients and event loops: derived clients are made once and never leak, a sync run keeps one loop."""

from __future__ import annotations

import asyncio
import gc
import os
from typing import Any

import httpx
import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient, tool
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

MODEL = "mistral-small-latest"


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


@tool
def add(a: int, b: int) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def tool_then_answer(body: dict[str, Any]) -> Reply | str:
    if body["messages"][-1]["role"] == "user":
        return Reply.tool_call("add", {"a": 2, "b": 3})
    return "5"


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open files in /proc")
def test_200_asyncio_runs_keep_one_derived_client_and_no_extra_file_descriptors() -> None:
    with OfflineServer(OfflineModel(policy=tool_then_answer)) as server:
        agent = Agent(MODEL, [add], client=MistralClient(endpoint=server.url, max_retries=0))
        for _ in range(5):  # warm up: the derived client, the tool threads, lazy imports
            assert asyncio.run(agent.arun("2+3?")).output == "5"
        gc.collect()
        derived, before = agent._async, open_fds()
        for _ in range(200):
            assert asyncio.run(agent.arun("2+3?")).output == "5"
        gc.collect()
        assert agent._async is derived  # one derived client for the agent, not one per loop
        assert derived is not None and derived._pools is not None and len(derived._pools) == 0  # closed with loops
        assert open_fds() <= before + 2, (before, open_fds())
        agent.close()
        assert agent._async is None


async def test_an_owned_async_client_works_across_event_loops_and_closes_each_pool_with_its_loop() -> None:
    model = OfflineModel(policy=lambda body: "ok")
    with OfflineServer(model) as server:
        client = MistralAsyncClient(endpoint=server.url, max_retries=0)
        messages = [{"role": "user", "content": "hi"}]

        async def chat() -> str | None:
            return (await client.chat(MODEL, messages)).choices[0].message.content  # type: ignore[return-value]

        def in_a_new_loop() -> str | None:
            return asyncio.run(chat())

        # Other loops, in other threads (each asyncio.run ends its loop): each gets its own pool, closed after.
        assert await asyncio.to_thread(in_a_new_loop) == "ok"
        assert await asyncio.to_thread(in_a_new_loop) == "ok"
        assert client._pools is not None and len(client._pools) == 0
        assert await chat() == "ok"  # and this loop's pool
        assert len(client._pools) == 1
        await client.close()
        with pytest.raises(RuntimeError, match="closed"):
            await chat()


async def test_aclose_closes_the_derived_client() -> None:
    with OfflineServer(OfflineModel(policy=tool_then_answer)) as server:
        agent = Agent(MODEL, [add], client=MistralClient(endpoint=server.url, max_retries=0))
        assert (await agent.arun("2+3?")).output == "5"
        derived = agent._async
        assert derived is not None and derived._pools is not None and len(derived._pools) == 1
        await agent.aclose()
        assert agent._async is None and len(derived._pools) == 0


# ------------------------------------------------------------------------------------------------ caller-owned
def test_a_client_on_a_caller_owned_http_client_is_not_converted_silently() -> None:
    with httpx.Client(headers={"X-Through-Proxy": "yes"}) as http:
        sync = MistralClient(endpoint="http://127.0.0.1:9", http_client=http)
        with pytest.raises(ValueError, match=r"async_client=MistralAsyncClient\(http_client=") as caught:
            sync.as_async()
        assert "caller-owned http_client" in str(caught.value)
        agent = Agent(MODEL, [add], client=sync)
        with pytest.raises(ValueError, match="caller-owned http_client"):
            asyncio.run(agent.arun("2+3?"))


async def test_both_flavours_given_each_run_uses_its_own_callers_settings() -> None:
    seen: list[tuple[str, str | None]] = []

    def sync_hook(request: httpx.Request) -> None:
        seen.append(("sync", request.headers.get("x-tenant")))

    async def async_hook(request: httpx.Request) -> None:
        seen.append(("async", request.headers.get("x-tenant")))

    with OfflineServer(OfflineModel(policy=tool_then_answer)) as server:
        sync_http = httpx.Client(headers={"X-Tenant": "sync"}, event_hooks={"request": [sync_hook]})
        async_http = httpx.AsyncClient(headers={"X-Tenant": "async"}, event_hooks={"request": [async_hook]})
        agent = Agent(
            MODEL,
            [add],
            client=MistralClient(endpoint=server.url, http_client=sync_http),
            async_client=MistralAsyncClient(endpoint=server.url, http_client=async_http),
        )
        assert (await agent.arun("2+3?")).output == "5"
        assert (await asyncio.to_thread(agent.run, "2+3?")).output == "5"
        assert seen == [("async", "async")] * 2 + [("sync", "sync")] * 2
        await asyncio.to_thread(sync_http.close)
        await async_http.aclose()


def test_async_client_with_a_sync_one_only() -> None:
    with pytest.raises(ValueError, match="only with a sync client"):
        Agent(
            MODEL,
            client=MistralAsyncClient(endpoint="http://127.0.0.1:9"),
            async_client=MistralAsyncClient(endpoint="http://127.0.0.1:9"),
        )


# ------------------------------------------------------------------------------------------------ one loop per run
def test_a_sync_run_keeps_one_event_loop_for_its_async_tools() -> None:
    """An async tool keeps an httpx.AsyncClient (its connection belongs to the loop) across three steps."""
    loops: list[asyncio.AbstractEventLoop] = []
    state: dict[str, httpx.AsyncClient] = {}

    with OfflineServer(OfflineModel(policy=lambda body: "pong")) as backend:

        @tool
        async def lookup(n: int) -> str:
            """Look a number up on the backend.

            Args:
                n: The number.
            """
            loops.append(asyncio.get_running_loop())
            http = state.setdefault("http", httpx.AsyncClient(base_url=backend.url))
            body = {"model": "m", "messages": [{"role": "user", "content": str(n)}]}
            response = await http.post("/v1/chat/completions", json=body)  # the kept-alive connection of step 1
            if n == 3:
                await http.aclose()
            return f"{n}: {response.status_code}"

        script = [Reply.tool_call("lookup", {"n": n}) for n in (1, 2, 3)] + ["done"]
        with OfflineServer(OfflineModel(script=script)) as server:
            with (
                MistralClient(endpoint=server.url, max_retries=0) as client,
                Agent(MODEL, [lookup], client=client) as agent,
            ):
                result = agent.run("look up 1, 2, 3")
    assert result.output == "done"
    assert [call.error for call in result.tool_calls] == [None, None, None], result.tool_calls
    assert [call.result for call in result.tool_calls] == ["1: 200", "2: 200", "3: 200"]
    assert len(loops) == 3 and loops[0] is loops[1] is loops[2]
    assert loops[0].is_closed()  # the run's loop is closed when the run ends
