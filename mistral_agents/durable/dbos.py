"""`DBOSAgent`: an [`Agent`][mistral_agents.agent.Agent] whose runs are DBOS workflows.

A third driver over the same loop (`mistral_agents.agent._steps`): every ``CallModel`` effect is answered inside
a DBOS step (its output: the response as its wire dict) and every tool call of a ``RunTools`` effect inside its own
step (its output: the tool outcome as JSON). The step ids of parallel calls are reserved in call order before any of
them runs, so a recovered run finds each call's checkpoint where the first run left it, whichever finished first.
When a process dies, ``DBOS.launch()`` in the next one replays the workflow: completed steps return their stored
output, the others run.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

try:
    from dbos import DBOS, DBOSClient, EnqueueOptions, Queue, SetWorkflowID, WorkflowHandle
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError('mistral_agents.durable needs the DBOS engine: pip install "mistral-agents[dbos]"') from error

from ..agent import _steps
from ..agent._execution import run_tools_async
from ..agent.agent import Agent
from ..agent.result import RunResult
from ..exceptions import MistralException
from ..models.chat_completion import ChatMessage
from ..tools import PreparedCall, ToolOutcome
from . import _codec

__all__ = ["DBOSAgent", "DepsRef", "DurableHandle"]

OutputT = TypeVar("OutputT")
History = Sequence[ChatMessage | Mapping[str, Any]]
Prompt = str | ChatMessage | None


@dataclass(frozen=True)
class DepsRef:
    """Deps passed by reference: the name of an object registered with
    [`DBOSAgent.register_deps`][mistral_agents.durable.DBOSAgent.register_deps].

    Only the name goes into the workflow's inputs; each process (the one that starts a run and the one that
    recovers it) registers its own live object under that name.
    """

    name: str


class DurableHandle(Generic[OutputT]):
    """A run started or enqueued without waiting: its ``workflow_id``, and ``get_result()`` to wait for it."""

    def __init__(self, handle: WorkflowHandle[Any], bot: DBOSAgent[OutputT]) -> None:
        self._handle = handle
        self._bot = bot

    @property
    def workflow_id(self) -> str:
        return self._handle.get_workflow_id()

    def get_result(self, *, polling_interval_sec: float = 1.0) -> RunResult[OutputT]:
        """Wait for the run to finish; its result (or its error, raised).

        A run executing elsewhere (another process, a recovery) is polled every ``polling_interval_sec``.
        """
        return self._bot._decode(self._handle.get_result(polling_interval_sec=polling_interval_sec))

    def __repr__(self) -> str:
        return f"DurableHandle(workflow_id={self.workflow_id!r})"


class DBOSAgent(Generic[OutputT]):
    """Run ``agent`` as a DBOS workflow named ``"{name}.run"``: each model call and each tool call a step.

    Build it (in every process that runs or recovers these runs) after ``DBOS(config=...)`` and before
    ``DBOS.launch()``. ``name`` (default: the agent's ``name``) names the workflow and its steps
    (``"{name}.model"``, ``"{name}.tool.{tool}"``): two durable agents in one app need two names.
    Streaming is not offered: a durable run returns its result, see ``docs/durable.md``.
    """

    def __init__(self, agent: Agent[OutputT], *, name: str | None = None) -> None:
        if not isinstance(agent, Agent):
            raise TypeError("DBOSAgent wraps an Agent")
        name = name if name is not None else getattr(agent, "name", None)
        if not isinstance(name, str) or not name:
            raise ValueError("a durable agent needs a name, unique in the app: DBOSAgent(agent, name='refunds')")
        self.agent = agent
        self.name = name
        self._live_deps: dict[str, Any] = {}

        async def run_workflow(payload: dict[str, Any]) -> dict[str, Any]:
            return await self._run_workflow(payload)

        self.workflow_name = f"{name}.run"
        self._workflow = DBOS.workflow(name=self.workflow_name)(run_workflow)
        # Started from sync code, DBOS runs the async workflow on its own event loop and the handle gives the value.
        self._workflow_from_sync = cast("Callable[[dict[str, Any]], dict[str, Any]]", self._workflow)

    def __repr__(self) -> str:
        return f"DBOSAgent(name={self.name!r}, agent={self.agent!r})"

    # ------------------------------------------------------------------------------------------ deps
    def register_deps(self, name: str, deps: Any) -> DepsRef:
        """Register a live object (a connection, a client) for ``deps=DepsRef(name)``; do it in every process."""
        self._live_deps[name] = deps
        return DepsRef(name)

    # ------------------------------------------------------------------------------------------ public runs
    def run(
        self,
        prompt: Prompt,
        *,
        workflow_id: str | None = None,
        history: History | None = None,
        deps: Any = None,
    ) -> RunResult[OutputT]:
        """Run to the final answer as the workflow ``workflow_id`` (a new id when None).

        An id that already ran returns that run's result without running again (a client's retry is safe).
        """
        return self.start(prompt, workflow_id=workflow_id, history=history, deps=deps).get_result()

    async def arun(
        self,
        prompt: Prompt,
        *,
        workflow_id: str | None = None,
        history: History | None = None,
        deps: Any = None,
    ) -> RunResult[OutputT]:
        """``run`` from async code; the same workflow (``run`` and ``arun`` with one id are one run)."""
        payload = self._payload(prompt, history, deps)
        with SetWorkflowID(workflow_id or _new_id()):
            handle = await DBOS.start_workflow_async(self._workflow, payload)
        return self._decode(await handle.get_result())

    def start(
        self,
        prompt: Prompt,
        *,
        workflow_id: str | None = None,
        history: History | None = None,
        deps: Any = None,
    ) -> DurableHandle[OutputT]:
        """Start the run in the background; a handle to wait for it."""
        payload = self._payload(prompt, history, deps)
        with SetWorkflowID(workflow_id or _new_id()):
            return DurableHandle(DBOS.start_workflow(self._workflow_from_sync, payload), self)

    def enqueue(
        self,
        queue: Queue | str,
        prompt: Prompt,
        *,
        workflow_id: str | None = None,
        history: History | None = None,
        deps: Any = None,
        client: DBOSClient | None = None,
    ) -> DurableHandle[OutputT]:
        """Put the run on a DBOS queue: whichever process serves that queue runs it (see ``docs/durable.md``).

        From a process that does not run workflows itself (a web front end), pass a ``DBOSClient``.
        """
        payload = self._payload(prompt, history, deps, here=False)
        workflow_id = workflow_id or _new_id()
        name = queue if isinstance(queue, str) else queue.name
        if client is not None:
            options: EnqueueOptions = {
                "queue_name": name,
                "workflow_name": self.workflow_name,
                "workflow_id": workflow_id,
            }
            return DurableHandle(client.enqueue(options, payload), self)
        with SetWorkflowID(workflow_id):
            return DurableHandle(DBOS.enqueue_workflow(name, self._workflow_from_sync, payload), self)

    def retrieve(self, workflow_id: str, *, client: DBOSClient | None = None) -> DurableHandle[OutputT]:
        """A handle to a run started earlier (by this process or another)."""
        if client is not None:
            return DurableHandle(client.retrieve_workflow(workflow_id), self)
        return DurableHandle(DBOS.retrieve_workflow(workflow_id), self)

    def run_stream(self, *args: Any, **kwargs: Any) -> Any:
        """Not offered: a durable run is checkpointed step by step, not token by token (``docs/durable.md``)."""
        raise NotImplementedError(_NO_STREAMING)

    def arun_stream(self, *args: Any, **kwargs: Any) -> Any:
        """Not offered, as ``run_stream``."""
        raise NotImplementedError(_NO_STREAMING)

    # ------------------------------------------------------------------------------------------ the workflow
    def _payload(self, prompt: Prompt, history: History | None, deps: Any, *, here: bool = True) -> dict[str, Any]:
        """The workflow's inputs, as JSON data (validated here, so a bad input fails before anything is stored).

        ``here``: the run starts in this process, so deps passed by reference must be registered in it.
        """
        payload: dict[str, Any] = {}
        if isinstance(prompt, ChatMessage):
            payload["prompt_message"] = _codec.messages_to_data([prompt])[0]
        elif prompt is not None:
            if not isinstance(prompt, str):
                raise TypeError("prompt must be a str, a ChatMessage or None")
            payload["prompt"] = prompt
        if history is not None:
            messages = [m if isinstance(m, ChatMessage) else ChatMessage.model_validate(m) for m in history]
            payload["history"] = _codec.messages_to_data(messages)
        if isinstance(deps, DepsRef):
            if here and deps.name not in self._live_deps:
                raise KeyError(f"no deps registered as {deps.name!r}: call bot.register_deps({deps.name!r}, obj)")
            payload["deps_ref"] = deps.name
        elif deps is not None:
            if not _codec.is_json(deps):
                raise TypeError(
                    f"deps of type {type(deps).__name__} cannot go into a durable run's inputs: pass JSON data, "
                    "or register the object in each process with bot.register_deps(name, obj) and pass "
                    "deps=DepsRef(name)"
                )
            payload["deps"] = deps
        return payload

    def _deps(self, payload: Mapping[str, Any]) -> Any:
        if "deps_ref" in payload:
            name = payload["deps_ref"]
            if name not in self._live_deps:
                raise KeyError(f"this process registered no deps as {name!r} (bot.register_deps({name!r}, obj))")
            return self._live_deps[name]
        return payload.get("deps", self.agent.deps)

    async def _run_workflow(self, payload: dict[str, Any]) -> dict[str, Any]:
        plan = self.agent._plan
        prompt: Prompt = payload.get("prompt")
        if "prompt_message" in payload:
            prompt = _codec.message_from_data(payload["prompt_message"])
        history = _codec.messages_from_data(payload["history"]) if "history" in payload else None
        state = _steps.start(plan, prompt, history, self._deps(payload))
        loop = _steps.drive(plan, state)
        answer: Any = None
        try:
            while True:
                try:
                    effect = loop.send(answer)
                except StopIteration as stop:
                    return _codec.result_to_data(stop.value)
                answer = None
                if isinstance(effect, _steps.CallModel):
                    data = await DBOS.run_step_async({"name": f"{self.name}.model"}, self._call_model, effect.request)
                    answer = _codec.response_from_data(data)
                elif isinstance(effect, _steps.ListTools):  # listed live in every execution, not checkpointed
                    answer = await self.agent._toolset.acurrent()
                elif isinstance(effect, _steps.RunTools):
                    answer = await self._run_tools(effect.calls)
        except MistralException as error:
            error.messages = list(state.messages)
            raise

    async def _call_model(self, request: dict[str, Any]) -> dict[str, Any]:
        """The model step: send the request; its output is the response's wire dict (the request is not stored)."""
        response = await self.agent._async_client().chat(**request)
        return _codec.response_to_data(response)

    async def _run_tools(self, calls: Sequence[PreparedCall | ToolOutcome]) -> list[ToolOutcome]:
        """One step per call, ids reserved in call order, run concurrently (at most the agent's max_concurrency)."""
        gate = asyncio.Semaphore(self.agent.max_concurrency)
        reserved = [None if isinstance(c, ToolOutcome) else DBOS.reserve_step() for c in calls]

        async def one(call: PreparedCall | ToolOutcome, reservation: Any) -> ToolOutcome:
            if isinstance(call, ToolOutcome):  # decided by the loop (unknown tool, bad arguments): no I/O
                return call
            async with gate:
                data = await reservation.run_async({"name": f"{self.name}.tool.{call.name}"}, self._call_tool, call)
            return _codec.outcome_from_data(data, call)

        return list(await asyncio.gather(*(one(c, r) for c, r in zip(calls, reserved, strict=True))))

    async def _call_tool(self, call: PreparedCall) -> dict[str, Any]:
        """A tool step: approval, timeout and errors as in ``Agent``; its output is the outcome as JSON."""
        agent = self.agent
        (outcome,) = await run_tools_async(agent.tools, [call], agent._executor(), agent.approver, 1)
        return _codec.outcome_to_data(outcome)

    def _decode(self, data: dict[str, Any]) -> RunResult[OutputT]:
        return _codec.result_from_data(data, self.agent._plan.output_type)


_NO_STREAMING = (
    "DBOSAgent does not stream: a durable run is checkpointed at each model call and tool call, and a stream "
    "cut by a crash could not be replayed. Use bot.run()/bot.arun(), or Agent.run_stream outside DBOS."
)


def _new_id() -> str:
    return str(uuid.uuid4())
