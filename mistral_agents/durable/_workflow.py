"""The durable driver: the agent loop (`mistral_agents.agent._steps`) answered inside DBOS steps.

Each effect that does I/O is a step whose output is JSON: ``CallModel`` (the response's wire dict), each call of
``RunTools`` (its outcome), ``Approve`` (the verdicts), and a session's load and stores. Step ids follow the order
in which the loop asks; the ids of parallel tool calls are reserved in call order before any of them runs, so a
replay finds each call's stored output wherever it finished first. Replaying a workflow (``DBOS.launch()`` after a
crash) returns the stored outputs of completed steps and runs the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any

from dbos import DBOS, StepReservation

from ..agent import _observe
from ..agent._engine import engine
from ..agent._execution import run_tools_async
from ..agent._persistence import LockingSession, Session, SessionRun
from ..agent.agent import Agent
from ..agent.approvals import approve_async
from ..agent.events import FinalResult
from ..async_client import MistralAsyncClient
from ..models.chat_completion import ChatMessage
from ..tools import PreparedCall, ToolOutcome, ToolRegistry
from . import _codec

__all__ = ["Driver"]


class Driver:
    """Runs one workflow's loop for ``agent``; ``name`` prefixes the step names (``"{name}.model"``, ...)."""

    def __init__(self, agent: Agent[Any], name: str) -> None:
        self.agent = agent
        self.name = name

    async def run(
        self,
        prompt: str | ChatMessage | None,
        history: Sequence[ChatMessage] | None,
        deps: Any,
        session: Session | None,
        approvals: Mapping[str, bool] | None,
    ) -> str:
        """The run, to its result as JSON (``RunResult.to_json``)."""
        agent = self.agent
        steps_session = None if session is None else _step_session(session, self.name)
        run = SessionRun(agent._plan, prompt, history=history, session=steps_session, approvals=approvals, deps=deps)
        async with run as state:
            # Traced like Agent's own runs (instrument=): model and tool spans come from the steps that really
            # run here; a replay of completed steps makes none (a model call is observed once its step runs).
            client = agent._async_client()
            observer = agent._observer(run, client.endpoint, False)
            events = engine(
                agent._plan, state, _StepHandlers(self, run, client), traced_by=agent._traced_by(),
                observer=None if observer is None else _observe.StartedObserver(observer),
            )  # fmt: skip
            result = None
            try:
                async for event in events:
                    if isinstance(event, FinalResult):
                        result = event.result
            finally:
                await events.aclose()
            assert result is not None, "the run ended without a result"
            return str(result.to_json())

    # ------------------------------------------------------------------------------------------ steps
    async def _call_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> dict[str, Any]:
        """The model step: its output is the response's wire dict (the request is not stored)."""
        client = self.agent._async_client()
        if watch is None:
            response = await client.chat(**request)
        else:
            with _observe.Watching(watch):
                response = await client.chat(**request)
        return _codec.response_to_data(response)

    async def _approve(self, calls: Sequence[PreparedCall]) -> list[Any]:
        """The approval step: the approver's verdicts are stored, so a recovered run does not ask again."""
        return _codec.verdicts_to_data(await approve_async(calls, self.agent.approver))

    async def _run_tools(
        self, calls: Sequence[PreparedCall | ToolOutcome], observer: _observe.RunObserver | None
    ) -> list[ToolOutcome]:
        """One step per call, ids reserved in call order, run concurrently (at most the agent's max_concurrency)."""
        gate = asyncio.Semaphore(self.agent.max_concurrency)
        reserved = [None if isinstance(c, ToolOutcome) else DBOS.reserve_step() for c in calls]

        async def one(call: PreparedCall | ToolOutcome, reservation: StepReservation | None) -> ToolOutcome:
            if isinstance(call, ToolOutcome) or reservation is None:  # decided by the loop (unknown tool, ...)
                assert isinstance(call, ToolOutcome)
                return call
            async with gate:
                data = await reservation.run_async(
                    {"name": f"{self.name}.tool.{call.name}"}, self._call_tool, call, observer
                )
            return _codec.outcome_from_step(data, call)

        return list(await asyncio.gather(*(one(c, r) for c, r in zip(calls, reserved, strict=True))))

    async def _call_tool(self, call: PreparedCall, observer: _observe.RunObserver | None) -> dict[str, Any]:
        """A tool step: timeout and errors as in ``Agent``; its output is the outcome as JSON."""
        agent = self.agent
        (outcome,) = await run_tools_async(agent.tools, [call], agent._executor(), 1, observer)
        return _codec.outcome_to_data(outcome)


class _StepHandlers:
    """The engine's handlers for a durable run: model calls, tool calls and approvals are DBOS steps; the tool
    sources are listed live in every execution; the session's stores are steps of ``_StepSession``."""

    def __init__(self, driver: Driver, run: SessionRun, client: MistralAsyncClient) -> None:
        self.client = client
        self._driver, self._run = driver, run

    async def call_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> Any:
        # A failed step is recorded too: a replay throws the same error into the loop (fallback models).
        data = await DBOS.run_step_async(
            {"name": f"{self._driver.name}.model"}, self._driver._call_model, request, watch
        )
        return _codec.response_from_data(data)

    def stream_model(self, request: dict[str, Any], watch: _observe.ModelCallObserver | None) -> AsyncIterator[Any]:
        raise NotImplementedError("a durable run does not stream")

    async def run_tools(
        self, calls: Sequence[PreparedCall | ToolOutcome], observer: _observe.RunObserver | None
    ) -> list[ToolOutcome]:
        return await self._driver._run_tools(calls, observer)

    async def approve(self, calls: Sequence[PreparedCall]) -> list[Any]:
        verdicts = await DBOS.run_step_async({"name": f"{self._driver.name}.approve"}, self._driver._approve, calls)
        return _codec.verdicts_from_data(verdicts)

    async def list_tools(self) -> ToolRegistry:
        return await self._driver.agent._toolset.acurrent()

    async def checkpoint(self) -> None:
        await self._run.acheckpoint()

    async def finish(self) -> None:
        await self._run.afinish()


class _StepSession:
    """A session whose reads and writes are DBOS steps: a replay reads the history the first execution read, and
    does not store again what was stored (a write killed before its step was recorded is done again)."""

    def __init__(self, session: Session, name: str) -> None:
        self.session_id = session.session_id
        self._session = session
        self._name = name

    async def aget_messages(self) -> list[ChatMessage]:
        data = await DBOS.run_step_async({"name": f"{self._name}.session.load"}, self._load)
        return _codec.messages_from_data(data)

    async def aadd_messages(self, messages: Sequence[ChatMessage]) -> None:
        data = _codec.messages_to_data(messages)
        await DBOS.run_step_async({"name": f"{self._name}.session.store"}, self._store, data)

    async def _load(self) -> list[dict[str, Any]]:
        return _codec.messages_to_data(await self._session.aget_messages())

    async def _store(self, data: list[dict[str, Any]]) -> int:
        await self._session.aadd_messages(_codec.messages_from_data(data))
        return len(data)

    # A durable run is async from end to end: the sync twins are never used.
    def get_messages(self) -> list[ChatMessage]:
        raise NotImplementedError

    def add_messages(self, messages: Sequence[ChatMessage]) -> None:
        raise NotImplementedError

    def clear(self) -> None:
        raise NotImplementedError

    async def aclear(self) -> None:
        raise NotImplementedError


class _LockingStepSession(_StepSession):
    """As ``_StepSession``, holding the session's lock for the run (in whichever process executes it)."""

    def lock(self) -> AbstractContextManager[Any]:
        raise NotImplementedError

    def alock(self) -> AbstractAsyncContextManager[Any]:
        assert isinstance(self._session, LockingSession)
        return self._session.alock()


def _step_session(session: Session, name: str) -> _StepSession:
    return _LockingStepSession(session, name) if isinstance(session, LockingSession) else _StepSession(session, name)
