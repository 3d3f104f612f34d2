"""A set of tools by name, and running the model's tool calls against it without ever raising for its mistakes.

The work is split sans-I/O style so an agent can run calls with its own executor, timeouts and approvals:
`ToolRegistry.prepare` (look up + validate) → call the tool → `ToolRegistry.finish` (serialise or turn the
exception into an error the model can act on). `dispatch` and `adispatch` do all three.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pydantic_core

from ..models.chat_completion import ChatMessage, ToolCall
from ..models.common import UsageInfo
from .context import RunContext
from .errors import ToolArgumentError, ToolDefinitionError
from .tool import Tool

__all__ = ["ErrorKind", "PreparedCall", "ToolOutcome", "ToolRegistry"]

ErrorKind = Literal["unknown_tool", "invalid_arguments", "tool_exception", "timeout", "denied"]


@dataclass(frozen=True)
class PreparedCall:
    """A tool call that found its tool and passed validation, ready to run."""

    tool: Tool[..., Any]
    tool_call_id: str
    name: str
    arguments: str
    args: dict[str, Any]
    ctx: RunContext[Any] | None = None

    @property
    def is_async(self) -> bool:
        return self.tool.is_async

    @property
    def key(self) -> tuple[str, str]:
        """The tool and its validated arguments: what makes two calls the same call."""
        return _call_key(self.name, self.args)

    def call(self, *, asynchronous: bool = False) -> Any:
        """Run the tool: its result, or an awaitable for an async tool (or, with ``asynchronous``, for a tool
        with an async twin). Exceptions propagate."""
        if asynchronous:
            return self.tool.call_async(self.args, self.ctx)
        return self.tool.call(self.args, self.ctx)


@dataclass(frozen=True)
class ToolOutcome:
    """The finished result of one tool call, successful or not; ``content`` is what the model gets back."""

    tool_call_id: str
    name: str
    arguments: str
    args: dict[str, Any] | None
    result: Any
    content: str
    error: str | None = None
    error_kind: ErrorKind | None = None
    exception: BaseException | None = None
    duration: float = 0.0
    #: A sync tool that timed out: its thread could not be stopped, so it may still complete (and act).
    still_running: bool = False
    #: What the tool spent on model calls (an agent called as a tool: its run's usage), counted in the caller's.
    usage: UsageInfo | None = None

    @property
    def ok(self) -> bool:
        return self.error_kind is None

    @property
    def key(self) -> tuple[str, str] | None:
        """As [`PreparedCall.key`][mistral_agents.tools.PreparedCall.key] (None when the arguments never validated)."""
        return None if self.args is None else _call_key(self.name, self.args)

    @property
    def message(self) -> ChatMessage:
        """The ``tool`` message answering the call."""
        return ChatMessage(role="tool", tool_call_id=self.tool_call_id, name=self.name, content=self.content)


class ToolRegistry(Mapping[str, Tool[..., Any]]):
    """Tools by name (plain callables are wrapped with ``tool``); duplicate names are an error.

    ``max_result_chars`` caps the text sent back to the model per call (the rest is cut, with a marker).
    """

    def __init__(
        self, tools: Iterable[Tool[..., Any] | Callable[..., Any]] = (), *, max_result_chars: int | None = None
    ) -> None:
        if max_result_chars is not None and max_result_chars < 1:
            raise ValueError("max_result_chars must be a positive number of characters or None")
        self.max_result_chars = max_result_chars
        self._tools: dict[str, Tool[..., Any]] = {}
        for item in tools:
            t = item if isinstance(item, Tool) else Tool(item)
            if t.name in self._tools:
                raise ToolDefinitionError(f"two tools are named '{t.name}'; tool names must be unique")
            self._tools[t.name] = t
        self._specs = [t.spec for t in self._tools.values()]

    def __getitem__(self, name: str) -> Tool[..., Any]:
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def __repr__(self) -> str:
        return f"ToolRegistry({list(self._tools)!r})"

    def specs(self) -> list[dict[str, Any]]:
        """The ``tools`` list for the API, in registration order (computed once)."""
        return list(self._specs)

    # --- sans-I/O steps ------------------------------------------------------------------------------

    def prepare(self, tool_call: ToolCall, ctx: RunContext[Any] | None = None) -> PreparedCall | ToolOutcome:
        """Find the tool (by exact name) and validate the arguments; a finished error outcome if either fails.

        A given ``ctx`` is copied with this call's ``tool_call_id`` and ``tool_name`` filled in.
        """
        name, raw = tool_call.function.name, tool_call.function.arguments
        found = self._tools.get(name) if isinstance(name, str) else None
        if found is None:
            available = ", ".join(self._tools) or "none"
            return self._error(
                tool_call.id, name, raw, None, "unknown_tool",
                f"unknown tool '{name}'. Available tools: {available}.", None, 0.0,
            )  # fmt: skip
        try:
            args = found.validate(raw)
        except ToolArgumentError as exc:
            return self._invalid(tool_call.id, name, raw, None, exc, 0.0)
        if ctx is not None and found.takes_context:  # only a tool that asks for the context gets its own copy
            ctx = dataclasses.replace(ctx, tool_call_id=tool_call.id, tool_name=name)
        return PreparedCall(found, tool_call.id, name, raw, args, ctx)

    def finish(
        self,
        prepared: PreparedCall,
        *,
        result: Any = None,
        error: BaseException | None = None,
        duration: float = 0.0,
        error_kind: Literal["tool_exception", "timeout", "denied"] | None = None,
        started: bool = True,
    ) -> ToolOutcome:
        """Serialise ``result``, or turn ``error`` into an error outcome the model can act on.

        ``error_kind`` defaults to ``tool_exception``; pass ``"timeout"`` or ``"denied"`` when the agent stopped
        the call (or use [`deny`][mistral_agents.tools.ToolRegistry.deny]), with ``started=False`` for a call
        that timed out before it started. A [`ToolArgumentError`][mistral_agents.tools.ToolArgumentError] raised
        by the tool itself is reported as invalid arguments.

        A timeout tells the model the truth: an async tool was cancelled; a sync tool's thread cannot be
        stopped, so it may still complete (``still_running`` on the outcome).
        """
        outcome = self._finish(prepared, result, error, duration, error_kind, started)
        usage = prepared.tool.model_usage(result, error)
        return outcome if usage is None else dataclasses.replace(outcome, usage=usage)

    def _finish(
        self,
        prepared: PreparedCall,
        result: Any,
        error: BaseException | None,
        duration: float,
        error_kind: Literal["tool_exception", "timeout", "denied"] | None,
        started: bool,
    ) -> ToolOutcome:
        p = prepared
        if error is None and error_kind is None:
            content = self._truncate(p.tool.serialize_result(result))
            return ToolOutcome(p.tool_call_id, p.name, p.arguments, p.args, result, content, duration=duration)
        if error_kind == "timeout":
            limit = f" within {p.tool.timeout:g} seconds" if p.tool.timeout else ""
            still_running = started and not p.is_async
            if not started:
                text = f"tool '{p.name}' did not start{limit} (all tool workers were busy) and was not run."
            elif p.is_async:
                text = f"tool '{p.name}' did not finish{limit} and was cancelled."
            else:
                text = (
                    f"tool '{p.name}' did not finish{limit}. It could not be stopped, so it may still complete "
                    "and its effects may still happen; it will not be run again with the same arguments."
                )
            outcome = self._error(p.tool_call_id, p.name, p.arguments, p.args, "timeout", text, error, duration)
            return dataclasses.replace(outcome, still_running=True) if still_running else outcome
        if error_kind == "denied":
            reason = f" Reason: {error}" if error is not None and str(error) else ""
            text = f"the call to tool '{p.name}' was denied.{reason}"
            return self._error(p.tool_call_id, p.name, p.arguments, p.args, "denied", text, error, duration)
        if isinstance(error, ToolArgumentError):
            return self._invalid(p.tool_call_id, p.name, p.arguments, p.args, error, duration)
        assert error is not None
        detail = f": {error}" if str(error) else ""
        text = f"tool '{p.name}' raised {type(error).__name__}{detail}"
        return self._error(p.tool_call_id, p.name, p.arguments, p.args, "tool_exception", text, error, duration)

    def not_again(self, prepared: PreparedCall) -> ToolOutcome:
        """The outcome of a call identical to one that timed out and may still be running: it is not run again
        (a model that retries would otherwise cause the side effects twice)."""
        text = (
            f"tool '{prepared.name}' was not run: an earlier call with the same arguments did not finish in time "
            "and may still complete. Do not call it again with the same arguments."
        )
        p = prepared
        return self._error(p.tool_call_id, p.name, p.arguments, p.args, "timeout", text, None, 0.0)

    def deny(self, prepared: PreparedCall, reason: str | None = None) -> ToolOutcome:
        """The outcome of a call the approver refused (the tool never ran)."""
        error = PermissionError(reason) if reason else None
        return self.finish(prepared, error=error, error_kind="denied")

    # --- convenience ---------------------------------------------------------------------------------

    def execute(self, tool_call: ToolCall, ctx: RunContext[Any] | None = None) -> ToolOutcome:
        """Prepare, run and finish one call in this thread (an async tool via ``asyncio.run``)."""
        prepared = self.prepare(tool_call, ctx)
        if isinstance(prepared, ToolOutcome):
            return prepared
        if prepared.is_async and _loop_running():
            raise RuntimeError(
                f"tool '{prepared.name}' is async and an event loop is running in this thread; "
                "use `await registry.adispatch(...)` instead"
            )
        start = time.perf_counter()
        try:
            result = prepared.call()
            if inspect.isawaitable(result):
                result = asyncio.run(_await(result))
        except Exception as exc:
            return self.finish(prepared, error=exc, duration=time.perf_counter() - start)
        return self.finish(prepared, result=result, duration=time.perf_counter() - start)

    async def aexecute(self, tool_call: ToolCall, ctx: RunContext[Any] | None = None) -> ToolOutcome:
        """Prepare, run and finish one call: async tools awaited, sync tools in a worker thread."""
        prepared = self.prepare(tool_call, ctx)
        if isinstance(prepared, ToolOutcome):
            return prepared
        start = time.perf_counter()
        try:
            if prepared.is_async:
                result = prepared.call()
            else:
                result = await asyncio.to_thread(prepared.call)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            return self.finish(prepared, error=exc, duration=time.perf_counter() - start)
        return self.finish(prepared, result=result, duration=time.perf_counter() - start)

    def dispatch(self, tool_call: ToolCall, ctx: RunContext[Any] | None = None) -> ChatMessage:
        """Run one call and return the ``tool`` message answering it (errors included, never raised)."""
        return self.execute(tool_call, ctx).message

    async def adispatch(self, tool_call: ToolCall, ctx: RunContext[Any] | None = None) -> ChatMessage:
        """Async [`dispatch`][mistral_agents.tools.ToolRegistry.dispatch]: async tools awaited, sync tools run
        with ``asyncio.to_thread``.
        """
        return (await self.aexecute(tool_call, ctx)).message

    # --- helpers -------------------------------------------------------------------------------------

    def _truncate(self, content: str) -> str:
        limit = self.max_result_chars
        if limit is None or len(content) <= limit:
            return content
        return f"{content[:limit]}\n[truncated: {len(content) - limit} of {len(content)} characters omitted]"

    def _invalid(
        self,
        call_id: str,
        name: str,
        raw: str,
        args: dict[str, Any] | None,
        exc: ToolArgumentError,
        duration: float,
    ) -> ToolOutcome:
        detail = exc.detail.rstrip()
        if not detail.endswith((".", "!", "?")):
            detail += "."
        text = f"invalid arguments for tool '{name}': {detail} Fix the arguments and call the tool again."
        return self._error(call_id, name, raw, args, "invalid_arguments", text, exc, duration)

    def _error(
        self,
        call_id: str,
        name: str,
        raw: str,
        args: dict[str, Any] | None,
        kind: ErrorKind,
        text: str,
        exc: BaseException | None,
        duration: float,
    ) -> ToolOutcome:
        content = self._truncate(f"Error: {text}")
        return ToolOutcome(call_id, name, raw, args, None, content, text, kind, exc, duration)


def _call_key(name: str, args: Mapping[str, Any]) -> tuple[str, str]:
    return name, pydantic_core.to_json(args, serialize_unknown=True).decode()


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _await(awaitable: Any) -> Any:
    return await awaitable
