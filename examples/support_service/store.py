"""Where conversations live: one session per customer id, on PostgreSQL or SQLite.

``SUPPORT_DATABASE`` is a ``postgresql://`` DSN or a SQLite file path (default ``support_service.db``). Every worker
opens the same database, so any worker can serve any customer; the session serialises two runs on one customer.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from mistral_agents.sessions import Session

DEFAULT_DATABASE = "support_service.db"
#: Runs at once per worker; more wait their turn. A Postgres run holds a pooled connection for its lock and
#: briefly another to read and write, so the pool has two per run.
RUNS_PER_WORKER = 8


class SessionStore:
    """Opens the session of a customer id on the configured database; limits the runs at once per worker."""

    def __init__(self, database: str | None = None) -> None:
        self.database = database or os.environ.get("SUPPORT_DATABASE") or DEFAULT_DATABASE
        self.runs = asyncio.Semaphore(RUNS_PER_WORKER)
        self._pool: Any = None

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith(("postgresql://", "postgres://"))

    def open(self) -> None:
        """Open the worker's connection pool (Postgres), once, at startup."""
        if self.is_postgres:
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(self.database, min_size=2, max_size=2 * RUNS_PER_WORKER + 2, open=False)
            self._pool.open(wait=True, timeout=30)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def session(self, customer_id: str) -> AsyncIterator[Session]:
        """The conversation of one customer, for one request."""
        session: Any
        if self.is_postgres:
            from mistral_agents.sessions import PostgresSession

            session = await asyncio.to_thread(PostgresSession, customer_id, self._pool)
        else:
            from mistral_agents.sessions import SQLiteSession

            session = await asyncio.to_thread(SQLiteSession, customer_id, self.database)
        try:
            yield session
        finally:
            close = getattr(session, "close", None)
            if close is not None:
                close()
