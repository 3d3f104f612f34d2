"""A background worker: jobs from a queue, each answered by an agent run, several at a time, on one async client.

    python examples/background_worker.py           # offline model, unless MISTRAL_API_KEY is set

In production the queue is Redis, SQS, a database table, ...; here it is an ``asyncio.Queue``. The pattern holds:
one ``MistralAsyncClient`` (one connection pool) for the process, a fixed number of workers, each job's failure
recorded on the job instead of killing the worker, and a clean shutdown that waits for the jobs in flight.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass, field

from mistral_agents import Agent, AgentError, MistralAsyncClient, MistralException
from mistral_agents.demo import SYSTEM_PROMPT, retrieve_payment_date, retrieve_payment_status
from mistral_agents.testing import OfflineModel


@dataclass
class Job:
    id: int
    prompt: str
    answer: str | None = None
    error: str | None = None
    tools_used: list[str] = field(default_factory=list)


def make_client() -> MistralAsyncClient:
    if os.environ.get("MISTRAL_API_KEY"):
        return MistralAsyncClient()
    return MistralAsyncClient(endpoint="http://offline", transport=OfflineModel().transport())


async def worker(name: str, agent: Agent[str], queue: asyncio.Queue[Job | None], done: list[Job]) -> None:
    while True:
        job = await queue.get()
        try:
            if job is None:  # the shutdown signal: one per worker
                return
            try:
                result = await agent.arun(job.prompt)
                job.answer = str(result.output)
                job.tools_used = [call.name for call in result.tool_calls]
            except (MistralException, AgentError) as error:  # recorded; the worker carries on
                job.error = f"{type(error).__name__}: {error}"
            done.append(job)
            print(f"[{name}] job {job.id}: {job.answer or job.error}")
        finally:
            queue.task_done()


async def main(prompts: list[str] | None = None, workers: int = 4) -> list[Job]:
    prompts = prompts or [f"What's the status of transaction T100{i % 5 + 1}?" for i in range(12)]
    queue: asyncio.Queue[Job | None] = asyncio.Queue()
    done: list[Job] = []
    async with make_client() as client:
        agent: Agent[str] = Agent(
            "mistral-large-latest",
            [retrieve_payment_status, retrieve_payment_date],
            client=client,
            system_prompt=SYSTEM_PROMPT,
        )
        async with agent:
            tasks = [asyncio.create_task(worker(f"w{n}", agent, queue, done)) for n in range(workers)]
            for number, prompt in enumerate(prompts):
                await queue.put(Job(number, prompt))
            for _ in tasks:
                await queue.put(None)
            await queue.join()
            await asyncio.gather(*tasks)
    print(f"{len(done)} jobs done, {sum(job.error is not None for job in done)} failed")
    return sorted(done, key=lambda job: job.id)


if __name__ == "__main__":
    asyncio.run(main())
