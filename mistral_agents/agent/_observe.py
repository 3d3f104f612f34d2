"""The observation seam: what instrumentation sees of a run, without ever changing it.

An ``Instrumentation`` (``mistral_agents.otel`` is one; the core never imports it unless asked to) is asked
for a ``RunObserver`` when a run starts. The drivers tell the observer each model call — made *active* around
the client's I/O, so retried attempts (through ``mistral_agents._retry.attempt_listener``) and anything the
HTTP layer traces land inside it — every event of the run (tool calls, tool results, the final result), and how
the run failed, if it did. ``._execution`` makes each running tool's observation active in the thread or task
that runs it, so whatever a tool opens nests under its call.

Not instrumented, none of this runs: the drivers only test ``observer is not None``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

from .._retry import attempt_listener

if TYPE_CHECKING:
    from ..models.chat_completion import ChatCompletionResponse, ChatMessage
    from ..tools import PreparedCall
    from .events import AgentEvent

__all__ = [
    "Instrumentation",
    "ModelCallObserver",
    "RunObserver",
    "RunStart",
    "Watching",
    "awatch_stream",
    "instrumentation_for",
    "watch_stream",
]

T = TypeVar("T")


@dataclass(frozen=True)
class RunStart:
    """What an observer is told when a run starts."""

    agent_name: str | None
    #: The agent's fixed request: ``model``, ``tools``, ``response_format`` and chat parameters.
    request: Mapping[str, Any]
    endpoint: str
    #: The transcript the run starts from (history, system prompt, prompt).
    messages: Sequence[ChatMessage]
    stream: bool
    #: The session's id, when the run keeps its conversation in one.
    conversation_id: str | None = None


class ModelCallObserver(Protocol):
    """One model call (one step), from request to response."""

    def active(self) -> AbstractContextManager[object]:
        """Make the call current (entered around I/O that never yields to the run's caller)."""

    def retrying(self, attempt: int, error: BaseException, wait: float) -> None:
        """Attempt ``attempt`` failed with ``error``; the client tries again in ``wait`` seconds."""

    def end(self, response: ChatCompletionResponse) -> None:
        """The model answered (for a stream: the stream ended and ``response`` is the merged whole)."""

    def fail(self, error: BaseException) -> None:
        """The call failed (after the client's retries); the run goes on if the loop falls back to another model."""


class RunObserver(Protocol):
    """One run, from start to final result or error."""

    def model_call(self, step: int, request: Mapping[str, Any]) -> ModelCallObserver:
        """Model call number ``step`` is about to be sent with ``request`` (keyword arguments of ``chat``)."""

    def tool_running(self, call: PreparedCall) -> AbstractContextManager[object]:
        """Entered around a tool while it runs, in the thread or task running it."""

    def event(self, event: AgentEvent) -> None:
        """A tool call was requested, a tool call finished (run or not), or the run produced its result."""

    def fail(self, error: BaseException) -> None:
        """The run ended with ``error`` (``GeneratorExit``: a streaming caller stopped reading)."""


class Instrumentation(Protocol):
    """Makes an observer for each run of an agent."""

    def start_run(self, run: RunStart) -> RunObserver: ...


#: Used by agents built without ``instrument=`` (``mistral_agents.otel.instrument_all()`` sets it).
default_instrumentation: Instrumentation | None = None


def instrumentation_for(instrument: Any) -> Instrumentation | Literal[False] | None:
    """``Agent(instrument=...)``: None (follow ``default_instrumentation``), False (never), or an instrumentation.

    ``True`` or an ``OpenTelemetrySettings`` imports ``mistral_agents.otel`` here, and only here.
    """
    if instrument is None or instrument is False:
        return instrument
    if callable(getattr(instrument, "start_run", None)):
        return instrument  # type: ignore[no-any-return]
    from ..otel import OpenTelemetrySettings, instrumentation

    if instrument is True:
        return instrumentation(OpenTelemetrySettings())
    if isinstance(instrument, OpenTelemetrySettings):
        return instrumentation(instrument)
    raise TypeError("instrument must be True, False, None or an OpenTelemetrySettings")


class StartedObserver:
    """``observer``, whose model calls are observed only from when their I/O starts (``active``): a call answered
    without I/O (a durable run's replayed step) is not observed at all."""

    __slots__ = ("_observer",)

    def __init__(self, observer: RunObserver) -> None:
        self._observer = observer

    def model_call(self, step: int, request: Mapping[str, Any]) -> ModelCallObserver:
        return _StartedCall(self._observer, step, request)

    def tool_running(self, call: PreparedCall) -> AbstractContextManager[object]:
        return self._observer.tool_running(call)

    def event(self, event: AgentEvent) -> None:
        self._observer.event(event)

    def fail(self, error: BaseException) -> None:
        self._observer.fail(error)


class _StartedCall:
    __slots__ = ("_call", "_observer", "_request", "_step")

    def __init__(self, observer: RunObserver, step: int, request: Mapping[str, Any]) -> None:
        self._observer, self._step, self._request = observer, step, request
        self._call: ModelCallObserver | None = None

    def active(self) -> AbstractContextManager[object]:
        if self._call is None:
            self._call = self._observer.model_call(self._step, self._request)
        return self._call.active()

    def retrying(self, attempt: int, error: BaseException, wait: float) -> None:
        if self._call is not None:
            self._call.retrying(attempt, error, wait)

    def end(self, response: ChatCompletionResponse) -> None:
        if self._call is not None:
            self._call.end(response)

    def fail(self, error: BaseException) -> None:
        if self._call is not None:
            self._call.fail(error)


class Watching:
    """``call`` active, and told of every retried attempt, while the block runs."""

    __slots__ = ("_active", "_call", "_token")

    def __init__(self, call: ModelCallObserver) -> None:
        self._call = call

    def __enter__(self) -> None:
        self._token = attempt_listener.set(self._call.retrying)
        self._active = self._call.active()
        self._active.__enter__()

    def __exit__(self, *exc_info: Any) -> None:
        try:
            self._active.__exit__(*exc_info)
        finally:
            attempt_listener.reset(self._token)


_END: Any = object()


def watch_stream(chunks: Iterator[T], call: ModelCallObserver) -> Iterator[T]:
    """``chunks``, with ``call`` watching while the first one is fetched (the request is sent, and retried, then)."""
    with Watching(call):
        first = next(chunks, _END)
    if first is _END:
        return
    yield first
    yield from chunks


async def awatch_stream(chunks: AsyncIterator[T], call: ModelCallObserver) -> AsyncIterator[T]:
    """The async twin of ``watch_stream``."""
    try:
        with Watching(call):
            first = await anext(chunks, _END)
        if first is _END:
            return
        yield first
        async for chunk in chunks:
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            await close()
