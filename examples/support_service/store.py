"""Where conversations live: one session per customer id, on PostgreSQL or SQLite.

``SUPPORT_DATABASE`` is a ``postgresql://`` DSN (one connection pool per worker process) or a SQLite file path
(default ``support_service.db``). Every worker opens the same database, so any worker can serve any customer.
"""

from __future__ import annotations

import os
from typing import Any

from mistral_agents import ChatMessage
from mistral_agents.sessions import Session

DEFAULT_DATABASE = "support_service.db"


class SessionStore:
    """Opens the session of a customer id on the configured database."""

    def __init__(self, database: str | None = None) -> None:
        self.database = database or os.environ.get("SUPPORT_DATABASE") or DEFAULT_DATABASE
        self._pool: Any = None

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith(("postgresql://", "postgres://"))

    async def open(self) -> None:
        """Open the worker's connection pool (Postgres) — once, at startup."""
        if self.is_postgres:
            from psycopg_pool import AsyncConnectionPool

            self._pool = AsyncConnectionPool(self.database, min_size=1, max_size=4, open=False)
            await self._pool.open(wait=True)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    def session(self, customer_id: str) -> Session:
        """The conversation of one customer."""
        if self.is_postgres:
            from mistral_agents.sessions import PostgresSession

            return PostgresSession(customer_id, self._pool)
        from mistral_agents.sessions import SQLiteSession

        return SQLiteSession(customer_id, self.database)


def pending_calls(messages: list[ChatMessage]) -> list[dict[str, str]]:
    """The tool calls of a paused run: the last assistant message's calls that have no result yet."""
    answered: set[str] = set()
    for message in reversed(messages):
        if message.role == "tool" and message.tool_call_id:
            answered.add(message.tool_call_id)
        elif message.role == "assistant":
            return [
                {"tool_call_id": call.id, "name": call.function.name, "arguments": call.function.arguments}
                for call in message.tool_calls or []
                if call.id not in answered
            ]
        else:
            return []
    return []
