"""The support service under ``uvicorn --workers 4`` on PostgreSQL: 50 customers at once, 4 turns each.

Every request may land on any worker (approvals included: the paused run lives in Postgres, not in a worker), so
this checks what a deployment depends on: no turn lost or stored twice, every transcript valid for the hosted API,
and the streamed answers equal to what was stored. Then a few customers write from two tabs at once: both turns
are kept, one after the other.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from mistral_agents.testing import check_chat_request

from .conversation import TRANSACTIONS, check_stored, converse
from .harness import Answer, SignedIn, offline_model_server, post_events, sign_in, support_service

pytest.importorskip("uvicorn")
CUSTOMERS = 50
WORKERS = 4
TWO_TABS = ("Hello from tab one", "Hello from tab two")


def test_fifty_customers_four_turns_on_four_workers(postgres_database: str) -> None:
    from psycopg_pool import ConnectionPool

    from mistral_agents.sessions import PostgresSession

    customers = [(f"customer-{n:02d}", TRANSACTIONS[n % 5], n % 3 != 0) for n in range(CUSTOMERS)]
    with offline_model_server() as model_url, support_service(model_url, postgres_database, WORKERS) as service:

        async def everyone() -> list[list[Answer]]:
            limits = httpx.Limits(max_connections=CUSTOMERS)
            async with httpx.AsyncClient(base_url=service.url, timeout=60, limits=limits) as http:
                staff = SignedIn(http, await sign_in(http, "staff", "Sam"))
                return await asyncio.gather(*(converse(service.url, staff, *customer) for customer in customers))

        async def two_tabs(customer: str) -> list[Answer]:
            path = f"/api/customers/{customer}/messages"
            async with httpx.AsyncClient(base_url=service.url, timeout=60) as http:  # one browser, two tabs
                csrf = await sign_in(http, "customer", customer)
                return await asyncio.gather(*(post_events(http, path, {"text": text}, csrf) for text in TWO_TABS))

        async def tabs() -> list[list[Answer]]:
            return await asyncio.gather(*(two_tabs(f"tabs-{n}") for n in range(10)))

        answers = asyncio.run(everyone())
        tab_answers = asyncio.run(tabs())

    workers = {answer.worker for conversation in answers for answer in conversation}
    assert len(workers) > 1, f"every request was served by one worker: {workers}"
    with ConnectionPool(postgres_database, min_size=1, max_size=2) as pool:  # closed before the database goes
        for (customer, transaction, approve), conversation in zip(customers, answers, strict=True):
            stored = PostgresSession(customer, pool).get_messages()
            check_stored(stored, transaction, approve, conversation)
        for n, pair in enumerate(tab_answers):
            assert all(answer.kinds[-1] == "done" and answer.text for answer in pair), [a.events for a in pair]
            wire = [m.model_dump(exclude_none=True) for m in PostgresSession(f"tabs-{n}", pool).get_messages()]
            assert [m["role"] for m in wire] == ["user", "assistant", "user", "assistant"]  # one run, then the other
            assert sorted(m["content"] for m in wire if m["role"] == "user") == sorted(TWO_TABS)
            assert check_chat_request({"model": "m", "messages": [*wire, {"role": "user", "content": "?"}]}) is None
