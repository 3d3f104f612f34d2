"""Event-loop plumbing shared by the clients, the agent and the integrations.

- `PerLoop`: one resource (a connection pool) per running event loop, closed *inside* that loop when it
  shuts down (``asyncio.run`` ends), so nothing outlives the loop that owns its sockets.
- `RunLoop`: one event loop for a whole piece of sync work (a sync agent run with async tools, an MCP
  session under sync runs): every coroutine handed to it runs on the same loop until `RunLoop.close`.
- `run_coroutine`: a one-shot coroutine from sync code (its own short-lived `RunLoop`).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any, Generic, TypeVar

__all__ = ["PerLoop", "RunLoop", "run_coroutine"]

T = TypeVar("T")
R = TypeVar("R")


class PerLoop(Generic[R]):
    """One ``R`` per running event loop: made by ``make`` on first use in a loop, closed by ``close`` in that loop.

    A loop that shuts down with ``loop.shutdown_asyncgens()`` (``asyncio.run``, ``asyncio.Runner``, uvicorn,
    pytest-asyncio) closes its resource on its way out: repeated ``asyncio.run(...)`` never accumulates pools or
    sockets. `aclose` closes them all (the caller's loop's by awaiting, other threads' live loops by
    scheduling the close on them). Thread-safe; the lookup for the loop used last is one comparison.
    """

    def __init__(self, make: Callable[[], R], close: Callable[[R], Awaitable[None]]) -> None:
        self._make = make
        self._close = close
        self._lock = threading.Lock()
        self._items: dict[asyncio.AbstractEventLoop, tuple[R, AsyncGenerator[None, None]]] = {}
        self._last: tuple[asyncio.AbstractEventLoop, R] | None = None
        self._closed = False

    def get(self) -> R:
        """The resource of the running loop (made now if it has none)."""
        loop = asyncio.get_running_loop()
        last = self._last
        if last is not None and last[0] is loop:
            return last[1]
        return self._get_slow(loop)

    def __len__(self) -> int:
        return len(self._items)

    def _get_slow(self, loop: asyncio.AbstractEventLoop) -> R:
        with self._lock:
            if self._closed:
                raise RuntimeError("the client has been closed")
            entry = self._items.get(loop)
            if entry is None:
                self._forget_closed_loops()
                resource = self._make()
                guard = self._guard(loop, resource)
                # The loop's asyncgen hook registers the guard on its first step, which runs to the ``yield``
                # at once (nothing before it awaits): from now on, ``shutdown_asyncgens`` closes the resource.
                with contextlib.suppress(StopIteration):
                    guard.asend(None).send(None)
                entry = self._items[loop] = (resource, guard)
            self._last = (loop, entry[0])
            return entry[0]

    async def _guard(self, loop: asyncio.AbstractEventLoop, resource: R) -> AsyncGenerator[None, None]:
        try:
            yield
        except _Forget:
            return
        except GeneratorExit:  # the loop shuts down (or the guard was dropped while its loop still runs)
            with self._lock:
                if self._items.get(loop, (None,))[0] is resource:
                    del self._items[loop]
                if self._last is not None and self._last[0] is loop:
                    self._last = None
            await self._close(resource)
            raise

    def _forget_closed_loops(self) -> None:
        """Drop the entries of loops closed without ``shutdown_asyncgens`` (their sockets went with them)."""
        for loop in [loop for loop in self._items if loop.is_closed()]:
            _, guard = self._items.pop(loop)
            _finish_quietly(guard)

    async def aclose(self) -> None:
        """Close every loop's resource (this loop's awaited); later `get` calls raise ``RuntimeError``."""
        items = self._take()
        mine = items.pop(asyncio.get_running_loop(), None)
        self._close_elsewhere(items)
        if mine is not None:
            await self._close(mine)

    def close(self) -> None:
        """`aclose` from sync code (no loop running in this thread)."""
        self._close_elsewhere(self._take())

    def _take(self) -> dict[asyncio.AbstractEventLoop, R]:
        with self._lock:
            self._closed = True
            items, self._items, self._last = self._items, {}, None
        for _, guard in items.values():
            _finish_quietly(guard)
        return {loop: resource for loop, (resource, _) in items.items()}

    def _close_elsewhere(self, items: dict[asyncio.AbstractEventLoop, R]) -> None:
        """Close resources of loops other than the caller's: on their own loop, if it still exists."""
        for loop, resource in items.items():
            if loop.is_running():  # another thread's loop
                asyncio.run_coroutine_threadsafe(_call(self._close, resource), loop)
            elif not loop.is_closed():
                loop.run_until_complete(self._close(resource))


async def _call(close: Callable[[R], Awaitable[None]], resource: R) -> None:
    await close(resource)


def _finish_quietly(guard: AsyncGenerator[None, None]) -> None:
    """End a guard without its close step (the caller closes the resource itself, or its loop is gone)."""
    with contextlib.suppress(StopIteration, StopAsyncIteration, RuntimeError):
        guard.athrow(_Forget()).send(None)


class _Forget(Exception):
    """Thrown into a guard: end without closing."""


class RunLoop:
    """One event loop for a whole sync task: `run` any number of coroutines on it, then `close`.

    In a thread with no running loop, the loop runs in the calling thread, between calls (contextvars of the
    caller are seen by the coroutine). Where a loop already runs in this thread (a notebook, sync code called
    from async code), it runs in a background thread for the whole task instead. Either way, state a coroutine
    keeps on the loop (an ``httpx.AsyncClient``, an MCP session) stays valid from one `run` to the next.
    """

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop, once the first `run` started it."""
        return self._loop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` to completion on this task's loop and return its result (or raise its error)."""
        if self._loop is None:
            self._start()
        loop = self._loop
        assert loop is not None
        if self._thread is None:
            return loop.run_until_complete(coroutine)
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result()

    def _start(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            self._loop = asyncio.new_event_loop()
            return
        loop = asyncio.new_event_loop()
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(loop)
            loop.call_soon(started.set)
            try:
                loop.run_forever()
            finally:
                _shutdown(loop)

        self._thread = threading.Thread(target=serve, name="mistral-agents-loop", daemon=True)
        self._loop = loop
        self._thread.start()
        started.wait()

    def close(self) -> None:
        """Finish the loop as ``asyncio.run`` does: cancel what is left, close async generators, close the loop."""
        loop, thread = self._loop, self._thread
        self._loop = self._thread = None
        if loop is None:
            return
        if thread is None:
            _shutdown(loop)
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join()  # the thread finishes the loop (see _start)

    def __enter__(self) -> RunLoop:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


async def _cancel_others() -> None:
    current = asyncio.current_task()
    tasks = [task for task in asyncio.all_tasks() if task is not current]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def _shutdown(loop: asyncio.AbstractEventLoop) -> None:
    try:
        loop.run_until_complete(_cancel_others())
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()


def run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion from sync code, even where an event loop already runs (a notebook)."""
    with RunLoop() as loop:
        return loop.run(coroutine)
