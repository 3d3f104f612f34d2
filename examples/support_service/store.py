"""Where everything lives: one session per customer, the approvals with their audit trail, the refunds made.

``SUPPORT_DATABASE`` is a ``postgresql://`` DSN or a SQLite file path (default ``support_service.db``). Every worker
opens the same database, so any worker can serve any customer; the session serialises two runs on one customer.

Next to the sessions' tables, two of the service's own (the same SQL on both databases):

- ``support_approvals``: one row per tool call waiting for a human, and, once decided, who decided (``decided_by``),
  when (``decided_at``) and what (``approved``) — the audit trail. A decision is claimed with one conditional
  ``UPDATE ... WHERE decided_at IS NULL``: of two staff deciding the same call at once, on any workers, one wins.
- ``support_refunds``: every refund the payment provider was asked to make (the demo's stand-in for the provider).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from mistral_agents import PendingCall
from mistral_agents.sessions import Session

DEFAULT_DATABASE = "support_service.db"
#: Runs at once per worker; more wait their turn. A Postgres run holds a pooled connection for its lock and
#: briefly another to read and write, so the pool has two per run.
RUNS_PER_WORKER = 8
#: Serialises CREATE TABLE IF NOT EXISTS between workers starting at once (PostgreSQL's catalog races otherwise).
_SCHEMA_LOCK = 0x5E5C_0023

_SCHEMA = """
CREATE TABLE IF NOT EXISTS support_approvals (
    customer_id TEXT NOT NULL,
    tool_call_id TEXT NOT NULL,
    tool_name TEXT NOT NULL,
    arguments TEXT NOT NULL,
    requested_at {time} NOT NULL,
    approved BOOLEAN,
    decided_by TEXT,
    decided_at {time},
    PRIMARY KEY (customer_id, tool_call_id)
);
CREATE INDEX IF NOT EXISTS support_approvals_waiting ON support_approvals (requested_at) WHERE decided_at IS NULL;
CREATE TABLE IF NOT EXISTS support_refunds (
    customer_id TEXT NOT NULL,
    tool_call_id TEXT NOT NULL,
    transaction_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    refunded_at {time} NOT NULL
)
"""
_COLUMNS = "customer_id, tool_call_id, tool_name, arguments, requested_at, approved, decided_by, decided_at"


class SessionStore:
    """The configured database: customers' sessions, approvals (with who decided), refunds; runs per worker."""

    def __init__(self, database: str | None = None) -> None:
        self.database = database or os.environ.get("SUPPORT_DATABASE") or DEFAULT_DATABASE
        self.runs = asyncio.Semaphore(RUNS_PER_WORKER)
        self._pool: Any = None

    @property
    def is_postgres(self) -> bool:
        return self.database.startswith(("postgresql://", "postgres://"))

    def open(self) -> None:
        """Open the worker's connection pool (Postgres), once, at startup, and create the service's tables."""
        if self.is_postgres:
            from psycopg_pool import ConnectionPool

            self._pool = ConnectionPool(self.database, min_size=2, max_size=2 * RUNS_PER_WORKER + 2, open=False)
            self._pool.open(wait=True, timeout=30)
        with self._transaction() as db:
            if self.is_postgres:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
            for statement in _SCHEMA.format(time="TIMESTAMPTZ" if self.is_postgres else "TEXT").split(";"):
                db.execute(statement)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    @asynccontextmanager
    async def session(self, customer_id: str, lock_timeout: float = 60.0) -> AsyncIterator[Session]:
        """The conversation of one customer, for one request (a run waits ``lock_timeout`` s for another)."""
        session: Any
        if self.is_postgres:
            from mistral_agents.sessions import PostgresSession

            session = await asyncio.to_thread(PostgresSession, customer_id, self._pool, lock_timeout=lock_timeout)
        else:
            from mistral_agents.sessions import SQLiteSession

            session = await asyncio.to_thread(SQLiteSession, customer_id, self.database, lock_timeout=lock_timeout)
        try:
            yield session
        finally:
            close = getattr(session, "close", None)
            if close is not None:
                close()

    # --- approvals and their audit trail (sync: call them with asyncio.to_thread) -----------------------------
    def request_approvals(self, customer_id: str, pending: Sequence[PendingCall]) -> None:
        """Record the calls a customer's paused run waits on (a call already recorded is left as it is)."""
        now = _now(self.is_postgres)
        rows = [(customer_id, call.tool_call_id, call.name, call.arguments, now) for call in pending]
        with self._transaction() as db:
            for row in rows:
                db.execute(
                    "INSERT INTO support_approvals (customer_id, tool_call_id, tool_name, arguments, requested_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (customer_id, tool_call_id) DO NOTHING",
                    row,
                )

    def waiting(self) -> list[dict[str, Any]]:
        """Every call waiting for a decision, across customers, oldest first."""
        with self._transaction() as db:
            query = f"SELECT {_COLUMNS} FROM support_approvals WHERE decided_at IS NULL ORDER BY requested_at"
            return [_approval(row) for row in db.execute(query).fetchall()]

    def decided(self, limit: int = 50) -> list[dict[str, Any]]:
        """The audit trail: the latest decisions, newest first — who decided what, and when."""
        with self._transaction() as db:
            query = (
                f"SELECT {_COLUMNS} FROM support_approvals WHERE decided_at IS NOT NULL "
                "ORDER BY decided_at DESC LIMIT ?"
            )
            return [_approval(row) for row in db.execute(query, (limit,)).fetchall()]

    def claim(self, customer_id: str, decisions: Mapping[str, bool], staff: str) -> list[str]:
        """Record ``staff``'s decisions on calls still waiting, all or none: the ids that were not waiting."""
        now = _now(self.is_postgres)
        try:
            with self._transaction() as db:
                refused = [
                    tool_call_id
                    for tool_call_id, approved in decisions.items()
                    if db.execute(
                        "UPDATE support_approvals SET approved = ?, decided_by = ?, decided_at = ? "
                        "WHERE customer_id = ? AND tool_call_id = ? AND decided_at IS NULL",
                        (approved, staff, now, customer_id, tool_call_id),
                    ).rowcount
                    != 1
                ]
                if refused:
                    raise _Refused(refused)  # rolls the others back
        except _Refused as error:
            return error.tool_call_ids
        return []

    def decided_before(self, customer_id: str, tool_call_ids: Iterable[str], seconds: float) -> dict[str, bool]:
        """The decisions recorded more than ``seconds`` ago on these calls (which a run should have carried out)."""
        ids = set(tool_call_ids)
        cutoff = datetime.now(timezone.utc) - timedelta(seconds=seconds)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT tool_call_id, approved FROM support_approvals "
                "WHERE customer_id = ? AND decided_at IS NOT NULL AND decided_at < ?",
                (customer_id, cutoff if self.is_postgres else cutoff.isoformat(timespec="microseconds")),
            ).fetchall()
        return {tool_call_id: bool(approved) for tool_call_id, approved in rows if tool_call_id in ids}

    def release(self, customer_id: str, tool_call_ids: Iterable[str], staff: str) -> None:
        """Undo ``staff``'s claim on calls whose resumed run did not get to run them (they wait again)."""
        with self._transaction() as db:
            for tool_call_id in tool_call_ids:
                db.execute(
                    "UPDATE support_approvals SET approved = NULL, decided_by = NULL, decided_at = NULL "
                    "WHERE customer_id = ? AND tool_call_id = ? AND decided_by = ?",
                    (customer_id, tool_call_id, staff),
                )

    # --- the demo's payment provider ---------------------------------------------------------------------------
    def record_refund(self, customer_id: str, tool_call_id: str, transaction_id: str, amount: str) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO support_refunds (customer_id, tool_call_id, transaction_id, amount, refunded_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (customer_id, tool_call_id, transaction_id, amount, _now(self.is_postgres)),
            )

    def refunds(self) -> list[dict[str, Any]]:
        """Every refund made, oldest first."""
        with self._transaction() as db:
            query = (
                "SELECT customer_id, tool_call_id, transaction_id, amount, refunded_at FROM support_refunds "
                "ORDER BY refunded_at"
            )
            keys = ("customer_id", "tool_call_id", "transaction_id", "amount", "refunded_at")
            rows = db.execute(query).fetchall()
        return [{**dict(zip(keys, row, strict=True)), "refunded_at": _iso(row[4])} for row in rows]

    @contextmanager
    def _transaction(self) -> Iterator[_Database]:
        """One transaction on a pooled Postgres connection or a new SQLite one, committed unless it raised."""
        if self.is_postgres:
            with self._pool.connection() as conn, conn.transaction():
                yield _Database(conn, postgres=True)
            return
        conn = sqlite3.connect(self.database, timeout=30, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield _Database(conn, postgres=False)
            except BaseException:
                conn.rollback()
                raise
            if conn.in_transaction:
                conn.commit()
        finally:
            conn.close()


class _Refused(Exception):
    def __init__(self, tool_call_ids: list[str]) -> None:
        super().__init__(tool_call_ids)
        self.tool_call_ids = tool_call_ids


class _Database:
    """One transaction's statements, written once with ``?`` placeholders for both databases."""

    def __init__(self, conn: Any, *, postgres: bool) -> None:
        self._conn, self._postgres = conn, postgres

    def execute(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(query.replace("?", "%s") if self._postgres else query, params)


def _now(postgres: bool) -> Any:
    """Now, UTC: a ``datetime`` for PostgreSQL's TIMESTAMPTZ, ISO-8601 text for SQLite (sortable as text)."""
    now = datetime.now(timezone.utc)
    return now if postgres else now.isoformat(timespec="microseconds")


def _iso(value: Any) -> str | None:
    """A stored time as ISO-8601 text in UTC (what SQLite stores; PostgreSQL's in the same form)."""
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat(timespec="microseconds")
    return None if value is None else str(value)


def _approval(row: Sequence[Any]) -> dict[str, Any]:
    customer_id, tool_call_id, tool_name, arguments, requested_at, approved, decided_by, decided_at = row
    return {
        "customer_id": customer_id,
        "tool_call_id": tool_call_id,
        "name": tool_name,
        "arguments": arguments,
        "requested_at": _iso(requested_at),
        "approved": None if approved is None else bool(approved),
        "decided_by": decided_by,
        "decided_at": _iso(decided_at),
    }
