"""End to end on the built-in demo model: the seed's payment-status conversation, over a transport and over real
loopback HTTP; client flavours derived on demand; many runs of one agent at once."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from mistral_agents import MistralAsyncClient, MistralClient
from mistral_agents.agent import Agent
from mistral_agents.testing import OfflineModel, OfflineServer

from .helpers import MODEL, Harness, last_tool_calls, retrieve_payment_date, retrieve_payment_status, roles

PAYMENT_TOOLS = [retrieve_payment_status, retrieve_payment_date]


async def check_payment_conversation(h: Harness, agent: Agent[Any], model: OfflineModel) -> None:
    first = await h.run(agent, "What's the status of my payment?")
    assert first.output == "Could you please provide your transaction id?"
    assert first.tool_calls == []

    second = await h.run(agent, "My transaction ID is T1001.", history=first.messages)

    [call] = second.tool_calls
    assert (call.name, call.args, call.result) == (
        "retrieve_payment_status",
        {"transaction_id": "T1001"},
        {"status": "Paid"},
    )
    assert second.output == "The status of transaction T1001 is Paid."
    assert "Paid" in second.output
    assert roles(second.messages) == ["system", "user", "assistant", "user", "assistant", "tool", "assistant"]
    [wire_call] = last_tool_calls(model.chat_requests[-1])
    assert wire_call["function"]["name"] == "retrieve_payment_status"
    assert model.rejections == []


async def test_the_payment_status_bot_asks_for_the_id_then_answers(h: Harness) -> None:
    model = OfflineModel()
    agent = h.agent(model, PAYMENT_TOOLS, system_prompt="You help customers with their payments.")
    await check_payment_conversation(h, agent, model)


async def test_the_payment_status_bot_over_real_loopback_http(h: Harness) -> None:
    model = OfflineModel(api_key="sk-offline")
    with OfflineServer(model) as server:
        client: MistralClient | MistralAsyncClient
        if h.mode == "sync":
            client = MistralClient(api_key="sk-offline", endpoint=server.url, max_retries=0)
        else:
            client = MistralAsyncClient(api_key="sk-offline", endpoint=server.url, max_retries=0)
        agent: Agent[Any] = Agent(
            MODEL, PAYMENT_TOOLS, client=client, system_prompt="You help customers with their payments."
        )
        try:
            await check_payment_conversation(h, agent, model)
            events = await h.stream(agent, "When was transaction T1002 paid?")
            assert events[-1].result.output == "The date of transaction T1002 is 2021-10-06."  # type: ignore[union-attr]
        finally:
            await agent.aclose()
            if isinstance(client, MistralAsyncClient):
                await client.close()
            else:
                client.close()
    assert all(r.headers["authorization"] == "Bearer <redacted>" for r in model.requests)
    assert model.rejections == []


async def test_a_sync_client_serves_arun_through_a_derived_async_client() -> None:
    model = OfflineModel()
    with MistralClient(endpoint="http://offline", transport=model.transport()) as client:
        async with Agent(MODEL, PAYMENT_TOOLS, client=client) as agent:
            result = await agent.arun("Status of T1003?")
    assert result.output == "The status of transaction T1003 is Pending."
    assert model.rejections == []


def test_an_async_client_serves_run_through_a_derived_sync_client() -> None:
    model = OfflineModel()
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport())
    with Agent(MODEL, PAYMENT_TOOLS, client=client) as agent:
        result = agent.run("Status of T1002?")
    asyncio.run(client.close())
    assert result.output == "The status of transaction T1002 is Unpaid."
    assert model.rejections == []


def test_run_works_where_an_event_loop_is_already_running() -> None:
    """A notebook: agent.run with async tools, called from inside a running loop."""

    async def status(transaction_id: str) -> str:
        return retrieve_payment_status(transaction_id)["status"]

    model = OfflineModel()

    async def main() -> str:
        with (
            MistralClient(endpoint="http://offline", transport=model.transport()) as client,
            Agent(MODEL, [status], client=client) as agent,
        ):
            return agent.run("status T1001").output  # type: ignore[no-any-return]

    assert asyncio.run(main()) == "The status of transaction T1001 is Paid."
    assert model.rejections == []


async def test_one_agent_serves_many_conversations_at_once() -> None:
    model = OfflineModel()
    ids = ["T1001", "T1002", "T1003"] * 4
    async with (
        MistralAsyncClient(endpoint="http://offline", transport=model.transport()) as client,
        Agent(MODEL, PAYMENT_TOOLS, client=client) as agent,
    ):
        results = await asyncio.gather(*(agent.arun(f"What is the status of {i}?") for i in ids))
    for transaction_id, result in zip(ids, results, strict=True):
        assert result.tool_calls[0].args == {"transaction_id": transaction_id}
        assert transaction_id in result.output
        assert len(result.messages) == 4
    assert model.rejections == []


async def test_each_step_is_logged_at_debug_level(h: Harness, caplog: pytest.LogCaptureFixture) -> None:
    model = OfflineModel()
    agent = h.agent(model, PAYMENT_TOOLS)
    with caplog.at_level(logging.DEBUG, logger="mistral_agents.agent"):
        await h.run(agent, "Status of T1001?")
    steps = [r.getMessage() for r in caplog.records if r.name == "mistral_agents.agent" and "step" in r.getMessage()]
    assert len(steps) == 2
    assert "step 1" in steps[0] and "1 tool call" in steps[0]
    assert model.rejections == []
