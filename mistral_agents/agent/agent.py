"""``Agent``: a model, tools and a loop — ``run``/``arun``/``run_stream``/``arun_stream`` over one core.

The decisions live in `_steps`; this module only answers its effects: model calls through the client
(plain or streamed), tool calls through `_execution`, and events handed to a streaming caller.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, ThreadPoolExecutor
from types import TracebackType
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from pydantic import BaseModel

from ..async_client import MistralAsyncClient
from ..client import MistralClient
from ..models.chat_completion import ChatMessage
from ..tools import Tool, ToolRegistry
from ..tools.source import ToolSet, ToolSource
from . import _engine, _nesting, _observe, _steps
from ._agent_tool import agent_tool
from ._persistence import Session, SessionRun
from ._window import HistoryWindow
from .approvals import Approver
from .events import AgentEvent, FinalResult
from .hooks import AgentHooks, HookRunner
from .result import RunResult
from .usage import UsageLimits

if TYPE_CHECKING:
    from ..otel import OpenTelemetrySettings

__all__ = ["Agent"]

OutputT = TypeVar("OutputT")
History = Sequence[ChatMessage | Mapping[str, Any]]
Prompt = str | ChatMessage | None
Approvals = Mapping[str, bool]


class Agent(Generic[OutputT]):
    """A function-calling agent: send the tools, run what the model asks for, repeat until it answers.

    The model's mistakes (bad JSON or arguments, unknown tools, tools that raise or time out) go back to it as
    tool results it can act on; only too many of them end the run.

    Args:
        model: The model name, e.g. ``"mistral-large-latest"``.
        tools: [`@tool`][mistral_agents.tools.tool.tool] functions (plain typed functions are wrapped), or a
            [`ToolRegistry`][mistral_agents.tools.ToolRegistry].
        client: A [`MistralClient`][mistral_agents.client.MistralClient] or a
            [`MistralAsyncClient`][mistral_agents.async_client.MistralAsyncClient] (default: a ``MistralClient()``
            from the environment, made on first use); the other flavour is derived from the same settings when
            needed (once per agent, closed by ``close``/``aclose``).
        async_client: The [`MistralAsyncClient`][mistral_agents.async_client.MistralAsyncClient] for ``arun``
            next to a sync ``client`` — required when ``client`` is built on a caller-owned ``http_client``,
            whose settings cannot be carried over to a derived client.
        system_prompt: Sent first in every run.
        tool_choice: ``"auto"``, ``"any"``, ``"required"``, ``"none"`` or a named tool. It applies to the first
            request; after a forced call the next request uses ``"auto"``.
        max_steps: Model calls per run; one more ends it with
            [`MaxStepsExceeded`][mistral_agents.agent.MaxStepsExceeded].
        deps: Passed to tools that take a [`RunContext`][mistral_agents.tools.RunContext] (a run may override).
        output_type: A pydantic model: the agent asks for a JSON answer and validates it, asking once more if
            invalid.
        max_tool_errors: Model mistakes tolerated per run; one more ends it with
            [`ToolError`][mistral_agents.agent.ToolError].
        max_tool_calls_per_step: Tool calls accepted from one model answer.
        max_concurrency: Tool calls of one answer that run at the same time.
        approver: Consulted before any tool declared with ``requires_approval=True`` runs. With none (or when it
            answers [`DEFER`][mistral_agents.agent.DEFER]) the run pauses (``result.paused``) until
            ``run(None, approvals=...)`` resumes it.
        hooks: [`AgentHooks`][mistral_agents.agent.AgentHooks] that observe model calls and tool calls (tracing).
        max_result_chars: Cap on the text of each tool result sent back to the model (the rest is cut, with a
            marker saying how much).
        history_window: A [`HistoryWindow`][mistral_agents.agent.HistoryWindow]: how much of a long history is
            sent (default: all of it).
        name: Names the agent (in traces, durable workflows).
        instrument: ``True`` (or an [`OpenTelemetrySettings`][mistral_agents.otel.OpenTelemetrySettings]) traces
            every run with OpenTelemetry; ``None`` follows
            [`instrument_all`][mistral_agents.otel.instrument_all]; ``False`` never traces.
        usage_limits: [`UsageLimits`][mistral_agents.agent.UsageLimits] every run obeys (a run's own
            ``usage_limits=`` can only narrow them); going over raises
            [`UsageLimitExceeded`][mistral_agents.agent.UsageLimitExceeded].
        handoffs: Agents the model may hand the conversation to: one ``transfer_to_{name}`` tool each (see
            [`handoffs`][mistral_agents.agent.Agent.handoffs]).
        handoff_description: What the model of an agent that may hand off to this one reads about it (the
            description of its ``transfer_to_...`` tool).
        fallback_models: Models tried in order when a model call fails, after the client's retries, with a 429,
            a 5xx, a timeout or a connection error: the same request, but for ``model``. A request the API
            refused (400, 401, 403, 404, 422) is never sent to another model.
        **chat_params: Sent with every chat request (``temperature``, ``max_tokens``, ``random_seed``, ...).
    """

    def __init__(
        self,
        model: str,
        tools: Iterable[Tool[..., Any] | Callable[..., Any] | ToolSource] | ToolRegistry = (),
        *,
        client: MistralClient | MistralAsyncClient | None = None,
        async_client: MistralAsyncClient | None = None,
        system_prompt: str | None = None,
        tool_choice: Any = "auto",
        max_steps: int = 10,
        deps: Any = None,
        output_type: type[OutputT] | None = None,
        max_tool_errors: int = 3,
        max_tool_calls_per_step: int = 32,
        max_concurrency: int = 8,
        approver: Approver | None = None,
        hooks: AgentHooks | Sequence[AgentHooks] | None = None,
        max_result_chars: int | None = None,
        history_window: HistoryWindow | None = None,
        name: str | None = None,
        instrument: bool | OpenTelemetrySettings | None = None,
        usage_limits: UsageLimits | None = None,
        fallback_models: Sequence[str] = (),
        handoffs: Sequence[Agent[Any]] = (),
        handoff_description: str | None = None,
        **chat_params: Any,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError("model must be a non-empty string, e.g. 'mistral-large-latest'")
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if max_tool_errors < 0 or max_tool_calls_per_step < 1 or max_concurrency < 1:
            raise ValueError("max_tool_errors must be >= 0; max_tool_calls_per_step and max_concurrency >= 1")
        if output_type is not None and not (isinstance(output_type, type) and issubclass(output_type, BaseModel)):
            raise TypeError("output_type must be a pydantic model class")
        if client is not None and not isinstance(client, MistralClient | MistralAsyncClient):
            raise TypeError("client must be a MistralClient or a MistralAsyncClient")
        if async_client is not None and not isinstance(async_client, MistralAsyncClient):
            raise TypeError("async_client must be a MistralAsyncClient")
        if async_client is not None and isinstance(client, MistralAsyncClient):
            raise ValueError("pass async_client only with a sync client (client=MistralClient(...))")
        if usage_limits is not None and not isinstance(usage_limits, UsageLimits):
            raise TypeError("usage_limits must be a UsageLimits")
        if isinstance(fallback_models, str) or not all(isinstance(m, str) and m for m in fallback_models):
            raise TypeError("fallback_models must be a list of model names, e.g. ['mistral-medium-latest']")
        sources: list[ToolSource] = []
        if isinstance(tools, ToolRegistry):
            if max_result_chars is not None and max_result_chars != tools.max_result_chars:
                tools = ToolRegistry(tools.values(), max_result_chars=max_result_chars)
            registry = tools
        else:
            items = list(tools)
            sources = [t for t in items if not isinstance(t, Tool) and isinstance(t, ToolSource)]
            fixed = [t for t in items if isinstance(t, Tool) or not isinstance(t, ToolSource)]
            registry = ToolRegistry(fixed, max_result_chars=max_result_chars)
        self._registry, self._sources = registry, sources
        self._plan_options: dict[str, Any] = dict(
            system_prompt=system_prompt, tool_choice=tool_choice, max_steps=max_steps,
            max_tool_errors=max_tool_errors, max_tool_calls_per_step=max_tool_calls_per_step,
            output_type=output_type, chat_params=chat_params, lists_tools=bool(sources), window=history_window,
            usage_limits=usage_limits, fallback_models=fallback_models, agent_name=name,
        )  # fmt: skip
        self._model = model
        self.name = name
        self.handoff_description = handoff_description
        self._handoffs: tuple[Agent[Any], ...] = ()
        self._build(handoffs)
        self._instrumentation = _observe.instrumentation_for(instrument)
        self.deps = deps
        self.approver = approver
        self._hooks = HookRunner(hooks)
        self.max_concurrency = max_concurrency
        self._client = client
        self._given_async = async_client
        self._lock = threading.Lock()
        self._sync: MistralClient | None = None
        self._async: MistralAsyncClient | None = None  # derived once; it keeps one pool per event loop
        self._pool: ThreadPoolExecutor | None = None

    @property
    def model(self) -> str:
        return self._plan.model

    @property
    def tools(self) -> ToolRegistry:
        return self._plan.registry

    @property
    def handoffs(self) -> list[Agent[Any]]:
        """The agents this one may hand the conversation to; assign a new list to change them (two agents that
        hand off to each other: build both, then set ``handoffs`` on the first).

        The model sees one tool per agent, ``transfer_to_{name}`` (no arguments; described by that agent's
        ``handoff_description``). Calling it answers the call with a short tool result, and the same run goes on
        with that agent's system prompt, tools, handoffs and model, over the whole conversation so far.
        ``result.agent_name`` says who answered, ``result.handoffs`` lists the agents handed to, events carry
        ``agent_name``; a run on a session resumes with the agent the conversation was last handed to. The
        run's deps, approver and limits stay the starting agent's, and ``max_steps`` still bounds the run (so a
        cycle of handoffs ends).
        """
        return list(self._handoffs)

    @handoffs.setter
    def handoffs(self, agents: Sequence[Agent[Any]]) -> None:
        self._build(agents)

    def _current_plan(self) -> _steps.Plan:
        return self._plan

    def _build(self, handoffs: Sequence[Agent[Any]]) -> None:
        """The plan (and tool set) with a ``transfer_to_...`` tool per handoff."""
        targets = tuple(handoffs)
        transfers: list[Tool[..., Any]] = []
        plans: list[_steps.Handoff] = []
        for target in targets:
            if not isinstance(target, Agent):
                raise TypeError("handoffs must be Agent instances")
            if not target.name:
                raise ValueError("an agent handed off to needs a name: Agent(..., name='refunds')")
            if target._plan.lists_tools:
                raise ValueError(f"agent {target.name!r} lists tools at run time (MCP servers): it cannot be handed to")
            tool_name = "transfer_to_" + (re.sub(r"[^a-zA-Z0-9_-]+", "_", target.name).strip("_") or "agent")[:52]
            transfers.append(_transfer_tool(tool_name, target))
            plans.append(_steps.Handoff(tool_name, target.name, target._current_plan))
        registry = self._registry
        if transfers:
            registry = ToolRegistry([*registry.values(), *transfers], max_result_chars=registry.max_result_chars)
        self._toolset = ToolSet(registry, self._sources)
        self._plan: _steps.Plan = _steps.Plan.build(self._model, registry, handoffs=plans, **self._plan_options)
        self._handoffs = targets

    def __repr__(self) -> str:
        return f"Agent(model={self.model!r}, tools={list(self.tools)!r})"

    # ------------------------------------------------------------------------------------------ public runs
    def run(
        self,
        prompt: Prompt,
        *,
        history: History | None = None,
        deps: Any = None,
        session: Session | None = None,
        approvals: Approvals | None = None,
        usage_limits: UsageLimits | None = None,
    ) -> RunResult[OutputT]:
        """Run to the final answer (or to a pause for approvals: ``result.paused``).

        Args:
            prompt: The user's message (text or a [`ChatMessage`][mistral_agents.models.chat_completion.ChatMessage]);
                ``None`` to resume a paused run.
            history: The conversation so far (messages or dicts in wire form); not with ``session``.
            deps: For tools that take a [`RunContext`][mistral_agents.tools.RunContext] (default: the agent's).
            session: The conversation is loaded from it, and what the run adds is stored in it.
            approvals: ``{tool_call_id: bool}``: the decisions that resume a paused run (with ``prompt=None``).
            usage_limits: [`UsageLimits`][mistral_agents.agent.UsageLimits] for this run: each one narrows the
                agent's (the stricter of the two applies; a run cannot lift its agent's limits).

        Returns:
            The answer, the transcript, the usage and the tool calls made.
        """
        events = self._events(self._session_run(prompt, history, deps, session, approvals, usage_limits), stream=False)
        try:
            for event in events:
                if isinstance(event, FinalResult):
                    return event.result
        finally:
            events.close()
        raise AssertionError("the run ended without a result")  # pragma: no cover

    async def arun(
        self,
        prompt: Prompt,
        *,
        history: History | None = None,
        deps: Any = None,
        session: Session | None = None,
        approvals: Approvals | None = None,
        usage_limits: UsageLimits | None = None,
    ) -> RunResult[OutputT]:
        """Run to the final answer, asynchronously (tools run concurrently); options as for
        [`run`][mistral_agents.agent.Agent.run]."""
        events = self._aevents(self._session_run(prompt, history, deps, session, approvals, usage_limits), stream=False)
        try:
            async for event in events:
                if isinstance(event, FinalResult):
                    return event.result
        finally:
            await events.aclose()
        raise AssertionError("the run ended without a result")  # pragma: no cover

    def run_stream(
        self,
        prompt: Prompt,
        *,
        history: History | None = None,
        deps: Any = None,
        session: Session | None = None,
        approvals: Approvals | None = None,
        usage_limits: UsageLimits | None = None,
    ) -> Iterator[AgentEvent]:
        """Run with streaming: text deltas, tool calls, tool results, then the
        [`FinalResult`][mistral_agents.agent.FinalResult]; arguments as for [`run`][mistral_agents.agent.Agent.run].
        """
        return self._events(self._session_run(prompt, history, deps, session, approvals, usage_limits), stream=True)

    def arun_stream(
        self,
        prompt: Prompt,
        *,
        history: History | None = None,
        deps: Any = None,
        session: Session | None = None,
        approvals: Approvals | None = None,
        usage_limits: UsageLimits | None = None,
    ) -> AsyncIterator[AgentEvent]:
        """The async twin of [`run_stream`][mistral_agents.agent.Agent.run_stream]:
        ``async for event in agent.arun_stream(...)``.
        """
        return self._aevents(self._session_run(prompt, history, deps, session, approvals, usage_limits), stream=True)

    def as_tool(self, name: str | None = None, description: str | None = None, *, max_depth: int = 4) -> Tool[..., Any]:
        """This agent as a tool of another agent: the model calls it with an ``input`` text, and gets back this
        agent's answer to it (a fresh conversation each call).

        It runs in the caller's flavour — ``run`` from a sync run, ``arun`` from an async one (the tool has both,
        see [`Tool`][mistral_agents.tools.Tool]) — with the caller's client when this agent has none of its own,
        and traced under the caller's ``execute_tool`` span when it has no ``instrument=`` of its own. Its usage
        is added to the caller's ``result.usage`` and spends from the caller's
        [`UsageLimits`][mistral_agents.agent.UsageLimits]; its tool calls come to a streaming caller as
        [`NestedEvent`][mistral_agents.agent.NestedEvent]s; the call's ``result`` is its
        [`RunResult`][mistral_agents.agent.RunResult].

        Args:
            name: The tool's name (default: the agent's ``name``, cleaned to the API's pattern).
            description: What the calling model reads (default: a sentence naming the agent).
            max_depth: How deep agents may call agents: a call that would nest deeper is not run, and the model
                gets a tool error saying so (so an agent that is its own tool ends).
        """
        return agent_tool(self, name, description, max_depth)

    # ------------------------------------------------------------------------------------------ drivers
    def _session_run(
        self,
        prompt: Prompt,
        history: History | None,
        deps: Any,
        session: Session | None,
        approvals: Approvals | None,
        usage_limits: UsageLimits | None = None,
    ) -> SessionRun:
        if usage_limits is not None and not isinstance(usage_limits, UsageLimits):
            raise TypeError("usage_limits must be a UsageLimits")
        return SessionRun(
            self._plan, prompt, history=history, session=session, approvals=approvals,
            deps=self.deps if deps is None else deps, usage_limits=usage_limits,
        )  # fmt: skip

    def _events(self, run: SessionRun, *, stream: bool) -> Generator[AgentEvent, None, None]:
        with run as state:
            client = self._sync_client()
            handlers = _engine.SyncHandlers(
                client, run, self._toolset, self.tools, self._executor, self.max_concurrency, self.approver
            )
            try:
                yield from _engine.run_sync(self._engine(run, state, handlers, client.endpoint, stream))
            finally:
                handlers.close()

    async def _aevents(self, run: SessionRun, *, stream: bool) -> AsyncGenerator[AgentEvent, None]:
        async with run as state:
            client = self._async_client()
            handlers = _engine.AsyncHandlers(
                client, run, self._toolset, self.tools, self._executor, self.max_concurrency, self.approver
            )
            inner = self._engine(run, state, handlers, client.endpoint, stream)
            try:
                async for event in inner:
                    yield event
            finally:
                await inner.aclose()

    def _engine(
        self, run: SessionRun, state: _steps.RunState, handlers: _engine.Handlers, endpoint: str, stream: bool
    ) -> AsyncGenerator[AgentEvent, None]:
        """The engine over this agent's plan, answered by ``handlers`` (one flavour's), observed and hooked."""
        return _engine.engine(
            self._plan, state, handlers, stream=stream, hooks=self._hooks,
            observer=self._observer(run, endpoint, stream), traced_by=self._traced_by(),
        )  # fmt: skip

    def _traced_by(self) -> _observe.Instrumentation | None:
        """The instrumentation of this agent's runs: its own (``instrument=``); else, run as a tool of another
        agent's run, the caller's; else ``instrument_all``'s."""
        instrumentation = self._instrumentation
        if instrumentation is None:
            caller = _nesting.caller()
            instrumentation = caller.instrumentation if caller is not None else None
        if instrumentation is None:
            instrumentation = _observe.default_instrumentation
        return instrumentation or None

    def _observer(self, run: SessionRun, endpoint: str, stream: bool) -> _observe.RunObserver | None:
        """The run's observer, when the agent (or ``instrument_all``) asks for instrumentation."""
        instrumentation = self._traced_by()
        if instrumentation is None:
            return None
        conversation = run.session.session_id if run.session is not None else None
        start = _observe.RunStart(
            self.name, self._plan.base_request, endpoint, tuple(run.state.messages), stream, conversation
        )
        return instrumentation.start_run(start)

    # ------------------------------------------------------------------------------------------ resources
    def _sync_client(self) -> MistralClient:
        if isinstance(self._client, MistralClient):
            return self._client
        if self._client is None:  # run as a tool of a sync run: the caller's client
            caller = _nesting.caller()
            if caller is not None and isinstance(caller.client, MistralClient):
                return caller.client
        with self._lock:
            if self._sync is None:
                self._sync = self._client.as_sync() if self._client is not None else MistralClient()
            return self._sync

    def _async_client(self) -> MistralAsyncClient:
        if isinstance(self._client, MistralAsyncClient):
            return self._client
        if self._given_async is not None:
            return self._given_async
        if self._client is None:  # run as a tool of an async run: the caller's client
            caller = _nesting.caller()
            if caller is not None and isinstance(caller.client, MistralAsyncClient):
                return caller.client
        derived = self._async
        if derived is not None:
            return derived
        with self._lock:
            if self._async is None:
                self._async = self._client.as_async() if self._client is not None else MistralAsyncClient()
            return self._async

    def _executor(self) -> Executor:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.max_concurrency, thread_name_prefix="mistral-agents-tool")
            return self._pool

    def close(self) -> None:
        """Release what the agent created: default or derived clients, its tool threads, its tool sources.

        A derived async client's pools close with their event loops (``asyncio.run`` ending); one still open on
        a loop that is not running is closed here. From async code prefer ``await agent.aclose()``.
        """
        self._toolset.close()
        with self._lock:
            sync, self._sync = self._sync, None
            derived, self._async = self._async, None
            pool, self._pool = self._pool, None
        if sync is not None:
            sync.close()
        if derived is not None:
            _close_async_client(derived)
        if pool is not None:
            pool.shutdown(wait=True)

    async def aclose(self) -> None:
        """[`close`][mistral_agents.agent.Agent.close], awaiting the derived async client's close on this loop."""
        with self._lock:
            derived, self._async = self._async, None
        if derived is not None:
            await derived.close()
        await self._toolset.aclose()
        self.close()

    def __enter__(self) -> Agent[OutputT]:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    async def __aenter__(self) -> Agent[OutputT]:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()


def _transfer_tool(tool_name: str, target: Agent[Any]) -> Tool[..., Any]:
    """The tool a model calls to hand the conversation to ``target`` (the loop answers it; it never runs)."""

    def transfer() -> str:
        return _steps.TRANSFERRED.format(name=target.name)

    description = target.handoff_description or f"Hand the conversation over to the {target.name} agent."
    return Tool(transfer, name=tool_name, description=description)


def _close_async_client(client: MistralAsyncClient) -> None:
    """Close an async client from sync code: on the running loop as a task, else on a loop of its own."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        client._close_from_sync()
        return
    task = loop.create_task(client.close())
    _CLOSING.add(task)
    task.add_done_callback(_CLOSING.discard)


_CLOSING: set[asyncio.Task[None]] = set()
