"""A sync tool that times out keeps running (threads cannot be stopped): the model is told so, and a retry with
the same arguments is not run a second time. Judged by the side effects, not only by the message."""

from __future__ import annotations

import asyncio
import threading

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient
from mistral_agents.testing import OfflineModel, Reply
from mistral_agents.tools import tool

MODEL = "mistral-large-latest"


class Bank:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.transfers: list[int] = []
        self.done = threading.Semaphore(0)

    def make_tool(self) -> object:
        @tool(timeout=0.05)
        def transfer(amount: int) -> str:
            """Transfer money (slowly)."""
            self.release.wait(10)
            with self.lock:
                self.transfers.append(amount)
            self.done.release()
            return "sent"

        return transfer


SCRIPT = [
    Reply.tool_call("transfer", {"amount": 5}),
    Reply.tool_call("transfer", {"amount": 5}),  # the model retries the same transfer
    Reply.tool_call("transfer", {"amount": 6}),  # a different transfer is a different call
    "Done.",
]


@pytest.mark.parametrize("flavour", ["sync", "async"])
async def test_a_timed_out_sync_tool_completes_once_and_the_model_is_told_the_truth(flavour: str) -> None:
    bank = Bank()
    model = OfflineModel(script=SCRIPT)
    agent: Agent[str]
    try:
        if flavour == "sync":
            client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
            agent = Agent(MODEL, [bank.make_tool()], client=client, max_tool_errors=5)
            result = await asyncio.to_thread(agent.run, "pay 5")
        else:
            aclient = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
            agent = Agent(MODEL, [bank.make_tool()], client=aclient, max_tool_errors=5)
            result = await agent.arun("pay 5")
        assert bank.transfers == []  # nothing finished while the run went on
    finally:
        bank.release.set()
    for _ in range(2):  # the first call and the different one: each thread finishes once
        assert await asyncio.to_thread(bank.done.acquire, True, 10)
    await agent.aclose()
    assert sorted(bank.transfers) == [5, 6]  # the side effect landed, and only once for the retried transfer
    first, retry, other = result.tool_calls
    assert first.still_running and other.still_running and not retry.still_running
    assert "may still complete" in first.content and "was cancelled" not in first.content
    assert "was not run" in retry.content
    assert model.rejections == []


async def test_an_async_tool_that_times_out_is_really_cancelled() -> None:
    effects: list[str] = []

    @tool(timeout=0.05)
    async def slow() -> str:
        """Slow."""
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            effects.append("cancelled")
            raise
        effects.append("done")
        return "done"

    model = OfflineModel(script=[Reply.tool_call("slow"), Reply.tool_call("slow"), "ok"])
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    async with Agent(MODEL, [slow], client=client) as agent:
        result = await agent.arun("go")
    assert effects == ["cancelled", "cancelled"]  # cancelled, so a retry is a fresh, legitimate call
    assert all("was cancelled" in o.content for o in result.tool_calls)
    assert not any(o.still_running for o in result.tool_calls)
