"""``PostgresSession``: conversations in PostgreSQL (extra ``postgres``: psycopg 3 with a connection pool).

Runs on one conversation are serialised by a session-level advisory lock, held on a pooled connection for the
whole run: PostgreSQL releases it by itself if the holder's connection dies, so a crashed worker never leaves a
conversation locked. Messages are rows of one table (``mistral_agents_messages`` by default, created on first use),
stored as the exact JSON text that was written.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..models.chat_completion import ChatMessage
from ._base import SessionBase, decode_rows, encode
from ._errors import SessionBusyError

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg_pool import ConnectionPool
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'PostgresSession needs psycopg 3 and psycopg-pool: pip install "mistral-agents[postgres]"'
    ) from error

if TYPE_CHECKING:
    from psycopg import Connection

__all__ = ["PostgresSession"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
_POOLS: dict[str, ConnectionPool[Any]] = {}
_READY: set[tuple[str, str]] = set()  # (conninfo, table) whose schema this process has made sure of
_GUARD = threading.Lock()
#: Serialises CREATE TABLE IF NOT EXISTS between processes (it races on PostgreSQL's catalog otherwise).
_SCHEMA_LOCK_KEY = 0x6D6973747261


class PostgresSession(SessionBase):
    """One conversation, ``session_id``, in PostgreSQL.

    ``dsn_or_pool``: a connection string (one pool per DSN per process is made and shared, at most ``max_size``
    connections) or your own ``psycopg_pool.ConnectionPool``. A run holds one pooled connection for its lock,
    and briefly another to read and write: size the pool for twice your concurrent runs.
    ``table``: the table's name. ``lock_timeout``: how long a run waits for another run on the same conversation
    before [`SessionBusyError`][mistral_agents.sessions.SessionBusyError] (None: forever; 0: not at all).
    """

    _leased = False  # an advisory lock dies with its connection: no lease to renew

    def __init__(
        self,
        session_id: str,
        dsn_or_pool: str | ConnectionPool[Any],
        *,
        table: str = "mistral_agents_messages",
        lock_timeout: float | None = 60.0,
        max_size: int = 20,
    ) -> None:
        super().__init__(session_id, lock_timeout=lock_timeout, lease=1.0)
        if not _IDENTIFIER.match(table):
            raise ValueError(f"table must be a plain SQL identifier, not {table!r}")
        self.table = table
        self._pool = _pool(dsn_or_pool, max_size) if isinstance(dsn_or_pool, str) else dsn_or_pool
        if not isinstance(self._pool, ConnectionPool):
            raise TypeError("dsn_or_pool must be a connection string or a psycopg_pool.ConnectionPool")
        self._key = int.from_bytes(
            hashlib.blake2b(f"{table}\x00{session_id}".encode(), digest_size=8).digest(), "big", signed=True
        )
        self._ensure_schema()

    def _ensure_schema(self) -> None:
        marker = (str(self._pool.conninfo), self.table)
        if marker in _READY:
            return
        table = sql.Identifier(self.table)
        with self._pool.connection() as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
            conn.execute(
                sql.SQL(
                    "CREATE TABLE IF NOT EXISTS {} (id BIGSERIAL PRIMARY KEY, session_id TEXT NOT NULL, "
                    "message TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                ).format(table)
            )
            conn.execute(
                sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} (session_id, id)").format(
                    sql.Identifier(f"{self.table}_session"), table
                )
            )
        _READY.add(marker)

    # --- messages ----------------------------------------------------------------------------------------------
    def get_messages(self) -> list[ChatMessage]:
        query = sql.SQL("SELECT id, message FROM {} WHERE session_id = %s ORDER BY id").format(
            sql.Identifier(self.table)
        )
        with self._pool.connection() as conn:
            rows = conn.execute(query, (self.session_id,)).fetchall()
        return decode_rows(self.session_id, rows)

    def add_messages(self, messages: Sequence[ChatMessage]) -> None:
        rows = [(self.session_id, encode(m)) for m in messages]
        if not rows:
            return
        query = sql.SQL("INSERT INTO {} (session_id, message) VALUES (%s, %s)").format(sql.Identifier(self.table))
        with self._pool.connection() as conn, conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(query, rows)

    def clear(self) -> None:
        query = sql.SQL("DELETE FROM {} WHERE session_id = %s").format(sql.Identifier(self.table))
        with self._pool.connection() as conn:
            conn.execute(query, (self.session_id,))

    # --- the run lock ------------------------------------------------------------------------------------------
    def _acquire(self) -> Connection[Any]:
        conn: Connection[Any] = self._pool.getconn()
        try:
            conn.autocommit = True
            if self.lock_timeout == 0:
                row = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
                if not (row and row[0]):
                    raise SessionBusyError(f"session {self.session_id!r} is busy: another run holds it")
                return conn
            timeout_ms = 0 if self.lock_timeout is None else max(1, int(self.lock_timeout * 1000))
            conn.execute(sql.SQL("SET lock_timeout = {}").format(sql.Literal(f"{timeout_ms}ms")))
            try:
                conn.execute("SELECT pg_advisory_lock(%s)", (self._key,))
            except pg_errors.LockNotAvailable:
                raise SessionBusyError(
                    f"session {self.session_id!r} is busy: another run held it for {self.lock_timeout:g}s"
                ) from None
            finally:
                conn.execute("RESET lock_timeout")
        except BaseException:
            self._pool.putconn(conn)
            raise
        return conn

    def _renew(self, held: Any) -> None:
        """Nothing to renew: the lock lasts as long as its connection."""

    def _release(self, held: Any) -> None:
        conn: Connection[Any] = held
        try:
            if not conn.closed:
                conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
        except psycopg.Error:
            conn.close()  # a broken connection takes its lock with it; the pool replaces it
        finally:
            self._pool.putconn(conn)


def _pool(dsn: str, max_size: int) -> ConnectionPool[Any]:
    with _GUARD:
        pool = _POOLS.get(dsn)
        if pool is None:
            pool = ConnectionPool(dsn, min_size=1, max_size=max_size, open=True, name="mistral-agents-sessions")
            _POOLS[dsn] = pool
        return pool
