"""The seam between a run and where its conversation lives (``mistral_agents.sessions`` holds the backends).

``Session`` is the protocol a store implements. ``SessionRun`` is one run's use of it, shared by every
driver (sync, async, streaming, durable): it takes the session's lock for the whole run (when the session has one),
loads the history, starts the run state, stores each completed step as the run goes (``checkpoint``,
called after every effect), and on the way out stores what completed — everything when the run finished or
paused, the prompt and the finished tool steps when it failed — then releases the lock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Protocol, runtime_checkable

from ..models.chat_completion import ChatMessage
from . import _steps
from .usage import UsageLimits

__all__ = ["LockingSession", "Session", "SessionRun"]


@runtime_checkable
class Session(Protocol):
    """Where one conversation is kept. Sync and async twins; ``session_id`` names the conversation.

    It holds the conversation, not the agent's system prompt. ``add_messages`` appends; ``get_messages`` returns
    exactly what was added (``ChatMessage`` equality, unknown fields kept).
    """

    session_id: str

    def get_messages(self) -> list[ChatMessage]: ...

    def add_messages(self, messages: Sequence[ChatMessage]) -> None: ...

    def clear(self) -> None: ...

    async def aget_messages(self) -> list[ChatMessage]: ...

    async def aadd_messages(self, messages: Sequence[ChatMessage]) -> None: ...

    async def aclear(self) -> None: ...


@runtime_checkable
class LockingSession(Session, Protocol):
    """A session that serialises runs: the agent holds ``lock()`` (``alock()`` in async runs) for a whole run.

    Entering waits for another run on the same conversation to end, or raises (``SessionBusyError``) before the
    run sends anything.
    """

    def lock(self) -> AbstractContextManager[Any]: ...

    def alock(self) -> AbstractAsyncContextManager[Any]: ...


class SessionRun:
    """One run over an optional session. Use as ``with``/``async with``; the value is the run's state.

    Without a session it only starts the run (``history`` as given). Driver contract: call ``checkpoint``
    (or ``acheckpoint``) after each effect is answered, and ``finish`` (``afinish``) before handing the
    final result out, so it is stored before anyone sees it.
    """

    __slots__ = (
        "_held", "_history", "_plan", "_prompt", "approvals", "deps", "session", "state", "stored", "usage_limits",
    )  # fmt: skip

    def __init__(
        self,
        plan: _steps.Plan,
        prompt: str | ChatMessage | None,
        *,
        history: Sequence[ChatMessage | Mapping[str, Any]] | None,
        session: Session | None,
        approvals: Mapping[str, bool] | None,
        deps: Any,
        usage_limits: UsageLimits | None = None,
    ) -> None:
        if session is not None and history is not None:
            raise ValueError("give session= or history=, not both (the session holds the history)")
        if session is not None and not isinstance(session, Session):
            raise TypeError(f"session must implement the Session protocol, not {type(session).__name__}")
        self._plan, self._prompt, self._history = plan, prompt, history
        self.session, self.approvals, self.deps = session, approvals, deps
        self.usage_limits = usage_limits
        self._held: Any = None
        self.stored = 0

    # ------------------------------------------------------------------------------------------ sync
    def __enter__(self) -> _steps.RunState:
        session = self.session
        if session is None:
            return self._start(self._history)
        if isinstance(session, LockingSession):
            held = session.lock()
            held.__enter__()
            self._held = held
        try:
            return self._start(session.get_messages())
        except BaseException:
            self._release(None, None, None)
            raise

    def checkpoint(self) -> None:
        """Store the steps completed since the last call."""
        due = self._due()
        if due:
            assert self.session is not None
            self.session.add_messages(due)
            self.stored += len(due)

    def finish(self) -> None:
        """Store what completed and release the lock (idempotent; ``__exit__`` calls it too)."""
        try:
            self.checkpoint()
        finally:
            self._release(None, None, None)

    def __exit__(self, *exc: Any) -> None:
        try:
            self.checkpoint()
        finally:
            self._release(*exc)

    def _release(self, *exc: Any) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.__exit__(*exc)

    # ------------------------------------------------------------------------------------------ async
    async def __aenter__(self) -> _steps.RunState:
        session = self.session
        if session is None:
            return self._start(self._history)
        if isinstance(session, LockingSession):
            held = session.alock()
            await held.__aenter__()
            self._held = held
        try:
            return self._start(await session.aget_messages())
        except BaseException:
            await self._arelease(None, None, None)
            raise

    async def acheckpoint(self) -> None:
        due = self._due()
        if due:
            assert self.session is not None
            await self.session.aadd_messages(due)
            self.stored += len(due)

    async def afinish(self) -> None:
        try:
            await self.acheckpoint()
        finally:
            await self._arelease(None, None, None)

    async def __aexit__(self, *exc: Any) -> None:
        try:
            await self.acheckpoint()
        finally:
            await self._arelease(*exc)

    async def _arelease(self, *exc: Any) -> None:
        held, self._held = self._held, None
        if held is not None:
            await held.__aexit__(*exc)

    # ------------------------------------------------------------------------------------------ decisions
    def _start(self, history: Sequence[ChatMessage | Mapping[str, Any]] | None) -> _steps.RunState:
        self.state = _steps.start(self._plan, self._prompt, history, self.deps, self.approvals, self.usage_limits)
        self.stored = self.state.new_message_index
        return self.state

    def _due(self) -> list[ChatMessage]:
        """The settled messages not stored yet (none without a session)."""
        if self.session is None or not hasattr(self, "state"):
            return []
        return self.state.messages[self.stored : self.state.settled]
