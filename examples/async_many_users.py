"""Many conversations at once on one ``MistralAsyncClient`` (one connection pool), each with its own history.

    python examples/async_many_users.py            # offline model, unless MISTRAL_API_KEY is set
    python examples/async_many_users.py --users 200

One agent serves every user: an ``Agent`` holds no per-conversation state, so each conversation keeps its own
``history`` (``result.messages``) and passes it back on its next turn. ``asyncio.gather`` runs the turns of all
users concurrently; a semaphore caps how many requests are in flight (the API's rate limits apply per key).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

from mistral_agents import Agent, ChatMessage, MistralAsyncClient
from mistral_agents.demo import SYSTEM_PROMPT, retrieve_payment_date, retrieve_payment_status
from mistral_agents.testing import OfflineModel


def make_client() -> tuple[MistralAsyncClient, str]:
    if os.environ.get("MISTRAL_API_KEY"):
        return MistralAsyncClient(), "the Mistral API"
    return MistralAsyncClient(endpoint="http://offline", transport=OfflineModel().transport()), "the offline model"


async def conversation(agent: Agent[str], user: int, limit: asyncio.Semaphore) -> list[str]:
    """Two turns of one customer's conversation; the second needs the first's context."""
    transaction = f"T100{user % 5 + 1}"
    history: list[ChatMessage] | None = None
    answers = []
    for prompt in (f"What's the status of my transaction {transaction}?", f"And when was {transaction} paid?"):
        async with limit:
            result = await agent.arun(prompt, history=history)
        history = result.messages
        answers.append(str(result.output))
    return answers


async def main(users: int = 50, concurrency: int = 16) -> list[list[str]]:
    client, where = make_client()
    limit = asyncio.Semaphore(concurrency)
    started = time.perf_counter()
    async with client:
        agent: Agent[str] = Agent(
            "mistral-large-latest",
            [retrieve_payment_status, retrieve_payment_date],
            client=client,
            system_prompt=SYSTEM_PROMPT,
            temperature=0,
        )
        async with agent:
            results = await asyncio.gather(*(conversation(agent, user, limit) for user in range(users)))
    elapsed = time.perf_counter() - started
    print(f"{users} conversations ({2 * users} agent runs) on {where} in {elapsed:.2f}s")
    for user, answers in list(enumerate(results))[:3]:
        print(f"user {user}: {' / '.join(answers)}")
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=16)
    options = parser.parse_args()
    asyncio.run(main(options.users, options.concurrency))
    sys.exit(0)
