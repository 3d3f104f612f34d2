"""Helpers for the agent tests: one harness that runs an agent sync (in a worker thread) or async.

Every client talks to an :class:`OfflineModel` through its httpx transport, so every request the agent sends is
checked against the hosted API's rules (``model.rejections`` lists the ones it would have refused).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from typing import Any

from mistral_agents import MistralAsyncClient, MistralClient
from mistral_agents.agent import Agent, AgentEvent, RunResult
from mistral_agents.testing import OfflineModel

MODEL = "mistral-large-latest"
ENDPOINT = "http://offline"
VALID_ID = re.compile(r"^[a-zA-Z0-9]{9}$")

#: The seed's small table of transactions.
TRANSACTIONS = {
    "T1001": {"status": "Paid", "date": "2021-10-05"},
    "T1002": {"status": "Unpaid", "date": "2021-10-06"},
    "T1003": {"status": "Pending", "date": "2021-10-07"},
}


def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
    """Get the payment status of a transaction.

    Args:
        transaction_id: The transaction id, e.g. T1001.
    """
    if transaction_id not in TRANSACTIONS:
        raise KeyError(f"no transaction {transaction_id}")
    return {"status": TRANSACTIONS[transaction_id]["status"]}


def retrieve_payment_date(transaction_id: str) -> dict[str, str]:
    """Get the payment date of a transaction.

    Args:
        transaction_id: The transaction id, e.g. T1001.
    """
    if transaction_id not in TRANSACTIONS:
        raise KeyError(f"no transaction {transaction_id}")
    return {"date": TRANSACTIONS[transaction_id]["date"]}


class Harness:
    """Builds agents on an offline model and runs them the way ``mode`` says.

    ``"sync"``: a :class:`MistralClient`, ``agent.run`` / ``agent.run_stream`` in a worker thread (no event loop
    there, as in a plain script). ``"async"``: a :class:`MistralAsyncClient`, ``agent.arun`` / ``agent.arun_stream``.
    """

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self._clients: list[MistralClient | MistralAsyncClient] = []
        self._agents: list[Agent[Any]] = []

    def client(self, model: OfflineModel, endpoint: str = ENDPOINT) -> MistralClient | MistralAsyncClient:
        client: MistralClient | MistralAsyncClient
        if self.mode == "sync":
            client = MistralClient(endpoint=endpoint, transport=model.transport(), max_retries=0)
        else:
            client = MistralAsyncClient(endpoint=endpoint, transport=model.transport(), max_retries=0)
        self._clients.append(client)
        return client

    def agent(self, model: OfflineModel, tools: Iterable[Any] = (), **options: Any) -> Agent[Any]:
        agent: Agent[Any] = Agent(MODEL, list(tools), client=self.client(model), **options)
        self._agents.append(agent)
        return agent

    async def run(self, agent: Agent[Any], prompt: Any = "Hi", **options: Any) -> RunResult[Any]:
        if self.mode == "sync":
            return await asyncio.to_thread(agent.run, prompt, **options)
        return await agent.arun(prompt, **options)

    async def stream(self, agent: Agent[Any], prompt: Any = "Hi", **options: Any) -> list[AgentEvent]:
        if self.mode == "sync":
            return await asyncio.to_thread(lambda: list(agent.run_stream(prompt, **options)))
        return [event async for event in agent.arun_stream(prompt, **options)]

    async def aclose(self) -> None:
        for agent in self._agents:
            await agent.aclose()
        for client in self._clients:
            if isinstance(client, MistralAsyncClient):
                await client.close()
            else:
                client.close()


def roles(messages: Iterable[Any]) -> list[str]:
    """The roles of wire messages (dicts) or ``ChatMessage`` objects."""
    return [m["role"] if isinstance(m, dict) else m.role for m in messages]


def tool_messages(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``tool`` messages of a recorded request body."""
    return [m for m in request["messages"] if m["role"] == "tool"]


def last_tool_calls(request: dict[str, Any]) -> list[dict[str, Any]]:
    """The ``tool_calls`` of the last assistant message of a recorded request body."""
    calls = [m for m in request["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
    return calls[-1]["tool_calls"] if calls else []
