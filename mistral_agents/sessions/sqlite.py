"""``SQLiteSession``: conversations in an SQLite file (stdlib ``sqlite3``, WAL) — the embedded default.

Safe from many threads and processes on one machine. Runs on one conversation are serialised by a lock row
(taken in a ``BEGIN IMMEDIATE`` transaction, leased and renewed while the run lasts); a lock left by a process
that died is taken over at once when that process is gone from this machine, else when its lease runs out.
"""

from __future__ import annotations

import os
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..models.chat_completion import ChatMessage
from ._base import SessionBase, decode_rows, encode
from ._errors import SessionBusyError

__all__ = ["SQLiteSession"]

_HOST = socket.gethostname()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS mistral_agents_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session_id TEXT NOT NULL,
    message TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS mistral_agents_messages_session ON mistral_agents_messages (session_id, id);
CREATE TABLE IF NOT EXISTS mistral_agents_locks (
    session_id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    expires_at REAL NOT NULL
);
"""


class SQLiteSession(SessionBase):
    """One conversation, ``session_id``, in the SQLite database at ``path`` (default ``":memory:"``: private to
    this object, gone with it).

    ``lock_timeout``: how long a run waits for another run on the same conversation before
    [`SessionBusyError`][mistral_agents.sessions.SessionBusyError] (None: forever; 0: not at all). ``lease``:
    how long a lock outlives a holder that stopped renewing it (a crashed process on another machine sharing the
    file).
    """

    def __init__(
        self,
        session_id: str,
        path: str | os.PathLike[str] = ":memory:",
        *,
        lock_timeout: float | None = 60.0,
        lease: float = 30.0,
    ) -> None:
        super().__init__(session_id, lock_timeout=lock_timeout, lease=lease)
        self.path = os.fspath(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._mutex = threading.RLock()
        conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None, check_same_thread=False)
        try:
            if self.path != ":memory:":
                conn.execute("PRAGMA journal_mode=WAL")
                conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(_SCHEMA)
        except BaseException:
            conn.close()
            raise
        self._conn = conn

    def close(self) -> None:
        """Close the database connection."""
        with self._mutex:
            self._conn.close()

    def __enter__(self) -> SQLiteSession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- messages ----------------------------------------------------------------------------------------------
    def get_messages(self) -> list[ChatMessage]:
        with self._mutex:
            rows = self._conn.execute(
                "SELECT id, message FROM mistral_agents_messages WHERE session_id = ? ORDER BY id",
                (self.session_id,),
            ).fetchall()
        return decode_rows(self.session_id, rows)

    def add_messages(self, messages: Sequence[ChatMessage]) -> None:
        rows = [(self.session_id, encode(m), time.time()) for m in messages]
        if not rows:
            return
        with self._mutex, _transaction(self._conn):
            self._conn.executemany(
                "INSERT INTO mistral_agents_messages (session_id, message, created_at) VALUES (?, ?, ?)", rows
            )

    def clear(self) -> None:
        with self._mutex, _transaction(self._conn):
            self._conn.execute("DELETE FROM mistral_agents_messages WHERE session_id = ?", (self.session_id,))

    # --- the run lock ------------------------------------------------------------------------------------------
    def _acquire(self) -> str:
        owner = uuid.uuid4().hex
        deadline = None if self.lock_timeout is None else time.monotonic() + self.lock_timeout
        delay = 0.002
        while True:
            if self._try_acquire(owner):
                return owner
            if deadline is not None and time.monotonic() >= deadline:
                raise SessionBusyError(
                    f"session {self.session_id!r} is busy: another run held it for {self.lock_timeout:g}s"
                )
            pause = delay if deadline is None else min(delay, max(0.0, deadline - time.monotonic()))
            time.sleep(pause)
            delay = min(delay * 2, 0.05)

    def _try_acquire(self, owner: str) -> bool:
        with self._mutex, _transaction(self._conn):
            row = self._conn.execute(
                "SELECT host, pid, expires_at FROM mistral_agents_locks WHERE session_id = ?", (self.session_id,)
            ).fetchone()
            now = time.time()
            if row is not None and row[2] > now and not (row[0] == _HOST and not _alive(row[1])):
                return False
            self._conn.execute(
                "INSERT OR REPLACE INTO mistral_agents_locks (session_id, owner, host, pid, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (self.session_id, owner, _HOST, os.getpid(), now + self.lease),
            )
            return True

    def _renew(self, held: Any) -> None:
        with self._mutex, _transaction(self._conn):
            self._conn.execute(
                "UPDATE mistral_agents_locks SET expires_at = ? WHERE session_id = ? AND owner = ?",
                (time.time() + self.lease, self.session_id, held),
            )

    def _release(self, held: Any) -> None:
        with self._mutex, _transaction(self._conn):
            self._conn.execute(
                "DELETE FROM mistral_agents_locks WHERE session_id = ? AND owner = ?", (self.session_id, held)
            )


@contextmanager
def _transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """A write transaction taken up front (``BEGIN IMMEDIATE``): no deadlock between two upgrading readers."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _alive(pid: int) -> bool:
    """Whether process ``pid`` exists on this machine (assumed yes where that cannot be checked)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
