"""``RedisSession``: conversations in Redis (extra ``redis``: redis-py), with an optional time to live.

A conversation is a Redis list of JSON messages. Runs on one conversation are serialised by a Redis lock (redis-py's
``Lock``: a token key set with NX and an expiry) renewed by a heartbeat while the run lasts, so the lock of a crashed
worker expires within ``lease`` seconds.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from ..models.chat_completion import ChatMessage
from ._base import SessionBase, decode_rows, encode, logger
from ._errors import SessionBusyError

try:
    import redis
    from redis.exceptions import LockError
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError('RedisSession needs redis-py: pip install "mistral-agents[redis]"') from error

__all__ = ["RedisSession"]

_CLIENTS: dict[str, redis.Redis] = {}
_GUARD = threading.Lock()


class RedisSession(SessionBase):
    """One conversation, ``session_id``, in Redis.

    ``url_or_client``: a URL (``redis://host:6379/0``; one client, with its connection pool, is made per URL per
    process and shared) or your own ``redis.Redis``. ``ttl`` (seconds or a ``timedelta``): the conversation
    expires that long after its last write (None: never). Keys are ``{prefix}{session_id}`` and
    ``{prefix}{session_id}:lock``. ``lock_timeout``: how long a run waits for another run on the same conversation
    before [`SessionBusyError`][mistral_agents.sessions.SessionBusyError] (None: forever; 0: not at all).
    """

    def __init__(
        self,
        session_id: str,
        url_or_client: str | redis.Redis,
        *,
        ttl: float | timedelta | None = None,
        prefix: str = "mistral_agents:session:",
        lock_timeout: float | None = 60.0,
        lease: float = 30.0,
    ) -> None:
        super().__init__(session_id, lock_timeout=lock_timeout, lease=lease)
        self.ttl = ttl.total_seconds() if isinstance(ttl, timedelta) else ttl
        if self.ttl is not None and self.ttl <= 0:
            raise ValueError("ttl must be a positive number of seconds, or None")
        self._client = _client(url_or_client) if isinstance(url_or_client, str) else url_or_client
        if not isinstance(self._client, redis.Redis):
            raise TypeError("url_or_client must be a Redis URL or a redis.Redis client")
        self.key = f"{prefix}{session_id}"
        self._lock_key = f"{self.key}:lock"

    # --- messages ----------------------------------------------------------------------------------------------
    def get_messages(self) -> list[ChatMessage]:
        items = self._client.lrange(self.key, 0, -1)
        return decode_rows(self.session_id, enumerate(items))

    def add_messages(self, messages: Sequence[ChatMessage]) -> None:
        items = [encode(m) for m in messages]
        if not items:
            return
        with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(self.key, *items)
            if self.ttl is not None:
                pipe.pexpire(self.key, int(self.ttl * 1000))
            pipe.execute()

    def clear(self) -> None:
        self._client.delete(self.key)

    # --- the run lock ------------------------------------------------------------------------------------------
    def _acquire(self) -> Any:
        lock = self._client.lock(
            self._lock_key, timeout=self.lease, blocking_timeout=self.lock_timeout, sleep=0.01, thread_local=False
        )
        if not lock.acquire(blocking=self.lock_timeout != 0):
            raise SessionBusyError(
                f"session {self.session_id!r} is busy: another run held it for {self.lock_timeout or 0:g}s"
            )
        return lock

    def _renew(self, held: Any) -> None:
        held.extend(self.lease, replace_ttl=True)

    def _release(self, held: Any) -> None:
        try:
            held.release()
        except LockError:
            logger.warning("the lock of session %r had expired before the run ended", self.session_id)


def _client(url: str) -> redis.Redis:
    with _GUARD:
        client = _CLIENTS.get(url)
        if client is None:
            client = redis.Redis.from_url(url)
            _CLIENTS[url] = client
        return client
