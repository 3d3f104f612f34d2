"""Conversations that persist: the [`Session`][mistral_agents.sessions.Session] protocol and its backends.

- [`SQLiteSession`][mistral_agents.sessions.SQLiteSession] (stdlib ``sqlite3``; the embedded default)
- [`PostgresSession`][mistral_agents.sessions.PostgresSession] (extra ``postgres``: psycopg 3 with a pool)
- [`RedisSession`][mistral_agents.sessions.RedisSession] (extra ``redis``: redis-py, optional TTL)

``agent.run(prompt, session=session)`` loads the conversation, and stores what the run adds. The Postgres and
Redis backends are imported on first use, so this package never loads psycopg or redis by itself.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ..agent._persistence import LockingSession, Session
from ._base import SessionBase
from ._errors import SessionBusyError, SessionDataError
from ._open import open_session
from .sqlite import SQLiteSession

if TYPE_CHECKING:
    from .postgres import PostgresSession
    from .redis import RedisSession

__all__ = [
    "LockingSession",
    "PostgresSession",
    "RedisSession",
    "SQLiteSession",
    "Session",
    "SessionBase",
    "SessionBusyError",
    "SessionDataError",
    "open_session",
]

_LAZY = {"PostgresSession": ".postgres", "RedisSession": ".redis"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'mistral_agents.sessions' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value
