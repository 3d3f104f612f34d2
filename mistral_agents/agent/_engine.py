"""The one effect-answering engine: the loop of `_steps.drive`, answered through a set of handlers.

``engine`` is an async generator of the run's events. What differs between flavours is only how an effect is
answered — the handlers: ``AsyncHandlers`` await the async client and tools; ``SyncHandlers`` call the sync client
and tools and return *ready* awaitables, so ``run_sync`` steps the very same engine with ``.send(None)``, without
an event loop and without a thread. Streaming is the same engine with ``stream=True`` (text deltas come from the
model handler's chunks); a durable run wraps the same handlers in steps.

The engine is the one place that checkpoints a session after a tool step, stores the finished run, throws a
failed model call into the loop (fallback models), tells hooks and the observer, sets ``error.messages``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Generator, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from ..exceptions import MistralException
from ..models.chat_completion import ChatCompletionStreamResponse, content_text
from ..streaming import StreamAccumulator
from . import _nesting, _observe, _steps
from ._execution import RunLoop, run_tools, run_tools_async
from .approvals import Verdict, approve, approve_async
from .events import AgentEvent, FinalResult, TextDelta
from .hooks import HookRunner

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from ..async_client import MistralAsyncClient
    from ..client import MistralClient
    from ..tools import PreparedCall, ToolOutcome, ToolRegistry
    from ..tools.source import ToolSet
    from ._persistence import SessionRun
    from .approvals import Approver

__all__ = ["AsyncHandlers", "Handlers", "Ready", "SyncHandlers", "engine", "run_sync"]

T = TypeVar("T")
Chunk = ChatCompletionStreamResponse


class Ready(Generic[T]):
    """An awaitable that is already done: awaiting it gives ``value`` without suspending."""

    __slots__ = ("value",)

    def __init__(self, value: T) -> None:
        self.value = value

    def __await__(self) -> Generator[Any, None, T]:
        return self.value
        yield  # pragma: no cover - makes this a generator


class Handlers(Protocol):
    """How one flavour answers the loop's effects (each an awaitable; the sync flavour's are ready)."""

    #: The run's client: an agent run as a tool of this run finds it (``_nesting``).
    client: Any

    def call_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> Awaitable[Any]:
        """Send ``request``; the ``ChatCompletionResponse`` (a ``MistralException`` when the call failed)."""

    def stream_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> AsyncIterator[Chunk]:
        """Send ``request`` streamed; its chunks."""

    def run_tools(
        self, calls: Sequence[PreparedCall | ToolOutcome], observer: _observe.RunObserver | None
    ) -> Awaitable[list[ToolOutcome]]:
        """Run one step's calls; one outcome per call, in order."""

    def approve(self, calls: Sequence[PreparedCall]) -> Awaitable[list[Verdict]]:
        """The approver's verdicts, one per call."""

    def list_tools(self) -> Awaitable[ToolRegistry]:
        """The registry for the next step (the tool sources listed)."""

    def checkpoint(self) -> Awaitable[None]:
        """Store what the last tool step added to the session."""

    def finish(self) -> Awaitable[None]:
        """Store the finished run in the session."""


async def engine(
    plan: _steps.Plan,
    state: _steps.RunState,
    handlers: Handlers,
    *,
    stream: bool = False,
    hooks: HookRunner | None = None,
    observer: _observe.RunObserver | None = None,
    traced_by: _observe.Instrumentation | None = None,
) -> AsyncGenerator[AgentEvent, None]:
    """Answer the effects of ``_steps.drive(plan, state)`` with ``handlers``; the run's events, ending with the
    ``FinalResult`` (text deltas too when ``stream``)."""
    loop = _steps.drive(plan, state)
    answer: Any = None
    failed: MistralException | None = None  # a model call's error, thrown into the loop (it may fall back)
    stepped = False  # the last effect was a tool step: its results are in the transcript once sent back
    try:
        while True:
            try:
                effect = loop.send(answer) if failed is None else loop.throw(failed)
            except StopIteration:
                return
            failed = None
            if stepped:
                await handlers.checkpoint()
                stepped = False
            answer = None
            if isinstance(effect, _steps.Emit):
                if isinstance(effect.event, FinalResult):
                    await handlers.finish()  # stored before anyone sees the result
                if hooks:
                    hooks.event(effect.event)
                if observer is not None:
                    observer.event(effect.event)
                yield effect.event
            elif isinstance(effect, _steps.CallModel):
                started = hooks.request(effect.step, effect.request) if hooks else 0.0
                watch = observer.model_call(effect.step, effect.request) if observer is not None else None
                try:
                    if stream:
                        accumulator = StreamAccumulator()
                        async for chunk in handlers.stream_model(effect.request, watch):
                            accumulator.add(chunk)
                            text = content_text(chunk.choices[0].delta.content) if chunk.choices else ""
                            if text:
                                yield TextDelta(text, effect.step, effect.agent_name)
                        answer = accumulator.response()
                    else:
                        answer = await handlers.call_model(effect.request, watch)
                except MistralException as error:
                    if watch is not None:
                        watch.fail(error)
                    failed = error
                    continue
                if watch is not None:
                    watch.end(answer)
                if hooks:
                    hooks.response(effect.step, answer, started)
            elif isinstance(effect, _steps.ListTools):
                answer = await handlers.list_tools()
            elif isinstance(effect, _steps.Approve):
                answer = await handlers.approve(effect.calls)
            else:
                with _nesting.calling(handlers.client, traced_by, state):
                    answer = await handlers.run_tools(effect.calls, observer)
                stepped = True
    except BaseException as error:
        if isinstance(error, MistralException):
            error.messages = list(state.messages)
        if observer is not None:
            observer.fail(error)
        raise


def run_sync(events: AsyncGenerator[AgentEvent, None]) -> Generator[AgentEvent, None, None]:
    """Step an engine whose handlers are all ready (``SyncHandlers``) from sync code: no event loop."""
    try:
        while True:
            step = events.asend(None)
            try:
                step.send(None)
            except StopIteration as done:
                yield done.value
                continue
            except StopAsyncIteration:
                return
            step.close()
            raise RuntimeError("a sync handler returned an awaitable that was not ready")
    finally:
        with contextlib.suppress(StopIteration):
            events.aclose().send(None)


_DONE: Ready[None] = Ready(None)


class _ReadyChunks:
    """Sync chunks as an async iterator whose items are ready."""

    __slots__ = ("_chunks",)

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks

    def __aiter__(self) -> _ReadyChunks:
        return self

    def __anext__(self) -> Ready[Chunk]:
        for chunk in self._chunks:
            return Ready(chunk)
        raise StopAsyncIteration


class _AgentHandlers:
    """What both flavours of an agent's own runs answer effects with."""

    __slots__ = ("_approver", "_executor", "_limit", "_registry", "_run", "_toolset", "client")

    def __init__(
        self,
        client: Any,
        run: SessionRun,
        toolset: ToolSet,
        registry: ToolRegistry,
        executor: Callable[[], Executor],
        limit: int,
        approver: Approver | None,
    ) -> None:
        self.client = client
        self._run, self._toolset, self._registry = run, toolset, registry
        self._executor, self._limit, self._approver = executor, limit, approver


class SyncHandlers(_AgentHandlers):
    """``Agent.run``/``run_stream``: the sync client, tools on the agent's threads, the session's sync methods."""

    __slots__ = ("tools_loop",)
    client: MistralClient

    def __init__(self, client: MistralClient, *args: Any) -> None:
        super().__init__(client, *args)
        self.tools_loop = RunLoop()  # async tools of this run share one event loop, started on first use

    def call_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> Ready[Any]:
        if watch is None:
            return Ready(self.client.chat(**request))
        with _observe.Watching(watch):
            return Ready(self.client.chat(**request))

    def stream_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> _ReadyChunks:
        chunks = self.client.chat_stream(**request)
        return _ReadyChunks(chunks if watch is None else _observe.watch_stream(chunks, watch))

    def run_tools(
        self, calls: Sequence[PreparedCall | ToolOutcome], observer: _observe.RunObserver | None
    ) -> Ready[list[ToolOutcome]]:
        return Ready(run_tools(self._registry, calls, self._executor, self._limit, observer, self.tools_loop))

    def approve(self, calls: Sequence[PreparedCall]) -> Ready[list[Verdict]]:
        return Ready(approve(calls, self._approver, self.tools_loop.run))

    def list_tools(self) -> Ready[ToolRegistry]:
        return Ready(self._toolset.current())

    def checkpoint(self) -> Ready[None]:
        self._run.checkpoint()
        return _DONE

    def finish(self) -> Ready[None]:
        self._run.finish()
        return _DONE

    def close(self) -> None:
        self.tools_loop.close()


class AsyncHandlers(_AgentHandlers):
    """``Agent.arun``/``arun_stream``: the async client, tools as tasks, the session's async methods."""

    __slots__ = ()
    client: MistralAsyncClient

    async def call_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> Any:
        if watch is None:
            return await self.client.chat(**request)
        with _observe.Watching(watch):
            return await self.client.chat(**request)

    def stream_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> AsyncIterator[Chunk]:
        chunks = self.client.chat_stream(**request)
        return chunks if watch is None else _observe.awatch_stream(chunks, watch)

    async def run_tools(
        self, calls: Sequence[PreparedCall | ToolOutcome], observer: _observe.RunObserver | None
    ) -> list[ToolOutcome]:
        return await run_tools_async(self._registry, calls, self._executor(), self._limit, observer)

    async def approve(self, calls: Sequence[PreparedCall]) -> list[Verdict]:
        return await approve_async(calls, self._approver)

    async def list_tools(self) -> ToolRegistry:
        return await self._toolset.acurrent()

    async def checkpoint(self) -> None:
        await self._run.acheckpoint()

    async def finish(self) -> None:
        await self._run.afinish()
