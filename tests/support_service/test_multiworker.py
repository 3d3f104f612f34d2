"""The support service under ``uvicorn --workers 4`` on PostgreSQL: 50 customers at once, 4 turns each.

Every request may land on any worker (approvals included: the paused run lives in Postgres, not in a worker), so
this checks what a deployment depends on: no turn lost or stored twice, every transcript valid for the hosted API,
and the streamed answers equal to what was stored.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from .conversation import TRANSACTIONS, check_stored, converse
from .harness import offline_model_server, support_service

pytest.importorskip("uvicorn")
CUSTOMERS = 50
WORKERS = 4


def test_fifty_customers_four_turns_on_four_workers(postgres_database: str) -> None:
    from mistral_agents.sessions import PostgresSession

    customers = [(f"customer-{n:02d}", TRANSACTIONS[n % 5], n % 3 != 0) for n in range(CUSTOMERS)]
    with offline_model_server() as model_url, support_service(model_url, postgres_database, WORKERS) as service:

        async def everyone() -> list[list]:
            limits = httpx.Limits(max_connections=CUSTOMERS)
            async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=limits) as http:
                return await asyncio.gather(*(converse(http, *customer) for customer in customers))

        answers = asyncio.run(everyone())

    workers = {answer.worker for conversation in answers for answer in conversation}
    assert len(workers) > 1, f"every request was served by one worker: {workers}"
    for (customer, transaction, approve), conversation in zip(customers, answers, strict=True):
        stored = PostgresSession(customer, postgres_database).get_messages()
        check_stored(stored, transaction, approve, conversation)
