"""Running a step's tool calls: timeouts and concurrency (threads for sync tools, tasks for async).

A timeout cancels an async tool; a sync tool's thread cannot be stopped, so it runs on (the model is told so).

A tool with both flavours (``Tool.async_function``, e.g. ``agent.as_tool()``) runs as the run does: its sync
function in a sync run (``run_tools``), its async twin in an async one (``run_tools_async``).

Results always come back in call order, whatever order the calls finish in. A sync tool in a thread runs in a copy
of the caller's context (contextvars), as ``asyncio.to_thread`` would; with an observer, each tool runs inside its
call's observation (``observer.tool_running``), so what it traces nests under its call. Approvals are decided
before a call gets here (``approvals``): every ``PreparedCall`` handed over runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

from .._loops import RunLoop, run_coroutine
from ..tools import PreparedCall, ToolOutcome, ToolRegistry
from . import _nesting

if TYPE_CHECKING:
    from ._observe import RunObserver

__all__ = ["RunLoop", "run_coroutine", "run_tools", "run_tools_async"]

T = TypeVar("T")


def run_tools(
    registry: ToolRegistry,
    calls: Sequence[PreparedCall | ToolOutcome],
    executor: Callable[[], Executor],
    limit: int,
    observer: RunObserver | None = None,
    loop: RunLoop | None = None,
) -> list[ToolOutcome]:
    """Run the calls from synchronous code: several at once in the agent's thread pool. Async tools run on
    ``loop`` — the run's one event loop, so what they keep on it lives from step to step — or, without one, on a
    loop made for this step.

    A sync run nested in an agent tool (``agent.as_tool()``) may itself be running in a worker of that pool:
    waiting there for more work queued on the same (bounded) pool could wait forever, so such a run's steps get
    threads of their own."""
    if _nesting.depth() > 0:
        step_pool: list[ThreadPoolExecutor] = []

        def own_pool() -> Executor:
            if not step_pool:
                workers = min(limit, sum(isinstance(c, PreparedCall) for c in calls)) or 1
                step_pool.append(ThreadPoolExecutor(workers, thread_name_prefix="mistral-agents-nested-tool"))
            return step_pool[0]

        try:
            return _run_tools(registry, calls, own_pool, limit, observer, loop)
        finally:
            for pool in step_pool:
                pool.shutdown(wait=False)  # a timed-out sync tool may still be running: never wait for it
    return _run_tools(registry, calls, executor, limit, observer, loop)


def _run_tools(
    registry: ToolRegistry,
    calls: Sequence[PreparedCall | ToolOutcome],
    executor: Callable[[], Executor],
    limit: int,
    observer: RunObserver | None,
    loop: RunLoop | None,
) -> list[ToolOutcome]:
    if any(isinstance(c, PreparedCall) and c.is_async for c in calls):
        coroutine = run_tools_async(registry, calls, executor(), limit, observer, asynchronous=False)
        return loop.run(coroutine) if loop is not None else run_coroutine(coroutine)
    outcomes: list[ToolOutcome | None] = [c if isinstance(c, ToolOutcome) else None for c in calls]
    ready = [(position, call) for position, call in enumerate(calls) if isinstance(call, PreparedCall)]
    if len(ready) == 1 and ready[0][1].tool.timeout is None:
        position, call = ready[0]
        outcomes[position] = _run_inline(registry, call, observer)
    elif ready:
        pool = executor()
        futures = []
        for position, call in ready:
            mark = _Start()
            future = pool.submit(contextvars.copy_context().run, mark.run, call, observer)
            future.add_done_callback(mark.done)
            futures.append((position, call, mark, future))
        for position, call, mark, future in futures:
            # A tool's clock starts when a worker picks it up, not while it waits behind other calls; one that
            # cannot even start within its timeout (the pool busy with stuck tools) is cancelled unstarted.
            timeout = call.tool.timeout
            if timeout is not None and not mark.event.wait(timeout) and future.cancel():
                outcomes[position] = registry.finish(call, error=TimeoutError(), error_kind="timeout", started=False)
                continue
            mark.event.wait()
            started = mark.at or time.perf_counter()
            remaining = None if timeout is None else max(0.0, timeout - (time.perf_counter() - started))
            try:
                result = future.result(timeout=remaining)
            except FutureTimeout:
                outcomes[position] = registry.finish(
                    call, error=TimeoutError(), error_kind="timeout", duration=time.perf_counter() - started
                )
            except Exception as error:
                outcomes[position] = registry.finish(call, error=error, duration=time.perf_counter() - started)
            else:
                outcomes[position] = registry.finish(call, result=result, duration=time.perf_counter() - started)
    return [o for o in outcomes if o is not None]


async def run_tools_async(
    registry: ToolRegistry,
    calls: Sequence[PreparedCall | ToolOutcome],
    executor: Executor,
    limit: int,
    observer: RunObserver | None = None,
    *,
    asynchronous: bool = True,
) -> list[ToolOutcome]:
    """Run the calls concurrently: async tools as tasks, sync tools in ``executor``; at most ``limit`` at once.

    ``asynchronous=False`` (a sync run's step that has async tools too): tools with both flavours run their sync
    function, in ``executor``."""
    gate = asyncio.Semaphore(limit)
    loop = asyncio.get_running_loop()

    async def one(call: PreparedCall | ToolOutcome) -> ToolOutcome:
        if isinstance(call, ToolOutcome):
            return call
        async with gate:
            started = time.perf_counter()
            try:
                with _running(observer, call):
                    running: Awaitable[Any]
                    if call.is_async or (asynchronous and call.tool.async_function is not None):
                        running = call.call(asynchronous=asynchronous)
                    else:
                        running = loop.run_in_executor(executor, contextvars.copy_context().run, call.call)
                    if call.tool.timeout is None:
                        result = await running
                    else:
                        result = await asyncio.wait_for(running, call.tool.timeout)
            except asyncio.TimeoutError as error:
                return registry.finish(call, error=error, error_kind="timeout", duration=time.perf_counter() - started)
            except Exception as error:
                return registry.finish(call, error=error, duration=time.perf_counter() - started)
            return registry.finish(call, result=result, duration=time.perf_counter() - started)

    return list(await asyncio.gather(*(one(call) for call in calls)))


class _Start:
    """When a pooled call started running (``event`` is also set once the future is done, even unstarted)."""

    __slots__ = ("at", "event")

    def __init__(self) -> None:
        self.at = 0.0
        self.event = threading.Event()

    def run(self, call: PreparedCall, observer: RunObserver | None) -> Any:
        with _running(observer, call):
            self.at = time.perf_counter()
            self.event.set()
            return call.call()

    def done(self, _future: Any) -> None:
        self.event.set()


_NOT_OBSERVED = nullcontext()


def _running(observer: RunObserver | None, call: PreparedCall) -> AbstractContextManager[object]:
    return _NOT_OBSERVED if observer is None else observer.tool_running(call)


def _run_inline(registry: ToolRegistry, call: PreparedCall, observer: RunObserver | None) -> ToolOutcome:
    started = time.perf_counter()
    try:
        with _running(observer, call):
            result = call.call()
    except Exception as error:
        return registry.finish(call, error=error, duration=time.perf_counter() - started)
    return registry.finish(call, result=result, duration=time.perf_counter() - started)
