"""What every backend shares: async twins, the run lock with its heartbeat, and reading stored rows."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

from .._json import message_from_data, message_to_data
from ..models.chat_completion import ChatMessage
from ._errors import SessionDataError

__all__ = ["SessionBase", "decode_rows", "encode"]

logger = logging.getLogger("mistral_agents.sessions")


def encode(message: ChatMessage) -> str:
    """One message as the JSON text a backend stores."""
    return json.dumps(message_to_data(message), ensure_ascii=False, separators=(",", ":"))


def decode_rows(session_id: str, rows: Iterable[tuple[Any, str | bytes]]) -> list[ChatMessage]:
    """Stored ``(position, text)`` rows as messages; a row that is not a message is a ``SessionDataError``."""
    messages = []
    for position, text in rows:
        try:
            message = ChatMessage.model_validate_json(text)
        except ValueError:
            message = None
        try:
            messages.append(message if message is not None else message_from_data(json.loads(text)))
        except ValueError as error:
            summary = str(error).splitlines()[0]
            raise SessionDataError(
                f"session {session_id!r}: stored message {position} cannot be read ({summary}); "
                "nothing was changed — repair or delete that row"
            ) from error
    return messages


class SessionBase(ABC):
    """A session backend: the sync methods are the backend's; the async twins run them in a worker thread.

    ``lock()`` is held by the agent for a whole run: it waits up to ``lock_timeout`` seconds (None: forever, 0:
    not at all) for another run on the same conversation, then raises
    [`SessionBusyError`][mistral_agents.sessions.SessionBusyError]. While held, a heartbeat renews the lock's
    lease every ``lease / 3`` seconds, so the lock of a process that died expires within ``lease`` seconds.
    """

    session_id: str
    lock_timeout: float | None
    lease: float
    #: False for a backend whose lock dies with its holder by itself (no lease to renew).
    _leased = True

    def __init__(self, session_id: str, *, lock_timeout: float | None, lease: float) -> None:
        if not isinstance(session_id, str) or not session_id:
            raise ValueError("session_id must be a non-empty string")
        if lock_timeout is not None and lock_timeout < 0:
            raise ValueError("lock_timeout must be >= 0 seconds, or None to wait as long as it takes")
        if lease <= 0:
            raise ValueError("lease must be a positive number of seconds")
        self.session_id = session_id
        self.lock_timeout = lock_timeout
        self.lease = lease

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.session_id!r})"

    # --- the backend -------------------------------------------------------------------------------------------
    @abstractmethod
    def get_messages(self) -> list[ChatMessage]:
        """The conversation, exactly as stored, oldest first."""

    @abstractmethod
    def add_messages(self, messages: Sequence[ChatMessage]) -> None:
        """Append messages (in one transaction: all or none)."""

    @abstractmethod
    def clear(self) -> None:
        """Forget the conversation."""

    @abstractmethod
    def _acquire(self) -> Any:
        """Take the run lock (or raise ``SessionBusyError``); returns what ``_renew``/``_release`` need."""

    @abstractmethod
    def _renew(self, held: Any) -> None:
        """Extend the lease of a lock this object holds."""

    @abstractmethod
    def _release(self, held: Any) -> None:
        """Give the run lock back."""

    # --- the run lock ------------------------------------------------------------------------------------------
    @contextmanager
    def lock(self) -> Iterator[None]:
        """Hold this conversation for one run (see the class docstring)."""
        held = self._acquire()
        try:
            with self._heartbeat(held):
                yield
        finally:
            self._release(held)

    @asynccontextmanager
    async def alock(self) -> AsyncIterator[None]:
        """``lock`` for async runs (waiting happens in a worker thread)."""
        held = await asyncio.to_thread(self._acquire)
        try:
            with self._heartbeat(held):
                yield
        finally:
            await asyncio.to_thread(self._release, held)

    @contextmanager
    def _heartbeat(self, held: Any) -> Iterator[None]:
        """Renew the lease of ``held`` every ``lease / 3`` seconds while the run lasts (leased backends only)."""
        beat = _Heartbeat(self.lease / 3, lambda: self._renew(held)) if self._leased else None
        try:
            yield
        finally:
            if beat is not None:
                beat.stop()

    # --- async twins -------------------------------------------------------------------------------------------
    async def aget_messages(self) -> list[ChatMessage]:
        return await asyncio.to_thread(self.get_messages)

    async def aadd_messages(self, messages: Sequence[ChatMessage]) -> None:
        await asyncio.to_thread(self.add_messages, list(messages))

    async def aclear(self) -> None:
        await asyncio.to_thread(self.clear)


class _Heartbeat:
    """Calls ``beat`` every ``interval`` seconds in a daemon thread until stopped."""

    def __init__(self, interval: float, beat: Callable[[], None]) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval, beat), daemon=True, name="session-lease")
        self._thread.start()

    def _run(self, interval: float, beat: Callable[[], None]) -> None:
        while not self._stop.wait(interval):
            try:
                beat()
            except Exception:
                logger.warning("could not renew a session lock's lease", exc_info=True)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
