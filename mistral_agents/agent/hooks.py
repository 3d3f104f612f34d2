"""Lifecycle hooks: see every model request and response and every tool call as a run goes.

Subclass [`AgentHooks`][mistral_agents.agent.AgentHooks], override what you need, and pass an instance (or several) as
``Agent(..., hooks=...)``. Hooks are called in the run's own thread or task, in order; they should be quick.
A hook that raises is logged and ignored: observability must never break a run. For OpenTelemetry, use
``Agent(instrument=True)`` (``mistral_agents.otel``); hooks are for anything else (see ``examples/tracing_hooks.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from typing import Any

from ..models.chat_completion import ChatCompletionResponse
from .events import AgentEvent, FinalResult, ToolCallEvent, ToolResultEvent
from .result import RunResult

__all__ = ["AgentHooks"]

logger = logging.getLogger("mistral_agents.agent")


class AgentHooks:
    """No-op callbacks for each moment of a run; override the ones you need."""

    def on_model_request(self, step: int, request: Mapping[str, Any]) -> None:
        """Before model call number ``step`` (``request`` holds the keyword arguments of ``client.chat``)."""

    def on_model_response(self, step: int, response: ChatCompletionResponse, duration: float) -> None:
        """After model call number ``step`` answered, ``duration`` seconds later."""

    def on_tool_start(self, event: ToolCallEvent) -> None:
        """A tool call is about to run."""

    def on_tool_end(self, event: ToolResultEvent) -> None:
        """A tool call finished; ``event.outcome`` has the result or the error, and the duration."""

    def on_run_end(self, result: RunResult[Any]) -> None:
        """The run produced its final answer."""


class HookRunner:
    """Calls every hook for one moment, shielding the run from hooks that raise."""

    __slots__ = ("_hooks",)

    def __init__(self, hooks: AgentHooks | Sequence[AgentHooks] | None) -> None:
        self._hooks: tuple[AgentHooks, ...] = (
            () if hooks is None else (hooks,) if isinstance(hooks, AgentHooks) else tuple(hooks)
        )
        for hook in self._hooks:
            if not isinstance(hook, AgentHooks):
                raise TypeError("hooks must be AgentHooks instances")

    def __bool__(self) -> bool:
        return bool(self._hooks)

    def request(self, step: int, request: Mapping[str, Any]) -> float:
        self._call("on_model_request", step, request)
        return time.perf_counter()

    def response(self, step: int, response: ChatCompletionResponse, started: float) -> None:
        self._call("on_model_response", step, response, time.perf_counter() - started)

    def event(self, event: AgentEvent) -> None:
        if isinstance(event, ToolCallEvent):
            self._call("on_tool_start", event)
        elif isinstance(event, ToolResultEvent):
            self._call("on_tool_end", event)
        elif isinstance(event, FinalResult):
            self._call("on_run_end", event.result)

    def _call(self, name: str, *args: Any) -> None:
        for hook in self._hooks:
            try:
                getattr(hook, name)(*args)
            except Exception:
                logger.exception("hook %s.%s raised; ignored", type(hook).__name__, name)
