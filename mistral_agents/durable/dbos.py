"""`DBOSAgent`: an [`Agent`][mistral_agents.agent.Agent] whose runs are DBOS workflows.

A third driver over the same loop (``durable._workflow``): every model call, every tool call, every approval and
every session read or write of a run is a DBOS step with a JSON output. When a process dies, ``DBOS.launch()`` in
the next one replays the workflow: completed steps return their stored output, the others run.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, cast

try:
    from dbos import DBOS, DBOSClient, EnqueueOptions, Queue, SetWorkflowID, WorkflowHandle
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError('mistral_agents.durable needs the DBOS engine: pip install "mistral-agents[dbos]"') from error

from ..agent._persistence import Session
from ..agent.agent import Agent
from ..agent.approvals import check_decisions
from ..agent.result import RunResult
from ..models.chat_completion import ChatMessage
from . import _codec
from ._workflow import Driver

__all__ = ["DBOSAgent", "DepsRef", "DurableHandle"]

OutputT = TypeVar("OutputT")
History = Sequence[ChatMessage | Mapping[str, Any]]
Prompt = str | ChatMessage | None
#: Where the sessions of durable runs live: a store URL for ``open_session``, or ``session_id -> Session``.
SessionStore = str | Callable[[str], Session]


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
    (``"{name}.model"``, ``"{name}.tool.{tool}"``, ...): two durable agents in one app need two names.
    ``sessions`` says where conversations live (a URL such as ``"sqlite:///conversations.db"``, or a function
    ``session_id -> Session``): a run's ``session=`` is opened there by its id, by whichever process runs it.
    Streaming is not offered: a durable run returns its result (see the guide, ``docs/durable.md``).
    """

    def __init__(self, agent: Agent[OutputT], *, name: str | None = None, sessions: SessionStore | None = None) -> None:
        if not isinstance(agent, Agent):
            raise TypeError("DBOSAgent wraps an Agent")
        name = name if name is not None else agent.name
        if not isinstance(name, str) or not name:
            raise ValueError("a durable agent needs a name, unique in the app: DBOSAgent(agent, name='refunds')")
        self.agent = agent
        self.name = name
        self.workflow_name = f"{name}.run"
        self._sessions = sessions
        self._live_deps: dict[str, Any] = {}
        self._driver = Driver(agent, name)

        async def run_workflow(payload: dict[str, Any]) -> str:
            return await self._execute(payload)

        self._workflow = DBOS.workflow(name=self.workflow_name)(run_workflow)
        # Started from sync code, DBOS runs the async workflow on its own event loop and the handle gives the value.
        self._workflow_from_sync = cast("Callable[[dict[str, Any]], str]", self._workflow)

    def __repr__(self) -> str:
        return f"DBOSAgent(name={self.name!r}, agent={self.agent!r})"

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
        session: Session | str | None = None,
        approvals: Mapping[str, bool] | None = None,
    ) -> RunResult[OutputT]:
        """Run to the final answer (or a pause for approvals) as the workflow ``workflow_id`` (new when None).

        An id that already ran returns that run's result without running again (a client's retry is safe).
        ``history``, ``deps``, ``session`` (a ``Session`` or its id) and ``approvals`` are as for ``Agent.run``.
        """
        payload = self._payload(prompt, history, deps, session, approvals)
        return self._start(payload, workflow_id).get_result()

    async def arun(
        self,
        prompt: Prompt,
        *,
        workflow_id: str | None = None,
        history: History | None = None,
        deps: Any = None,
        session: Session | str | None = None,
        approvals: Mapping[str, bool] | None = None,
    ) -> RunResult[OutputT]:
        """``run`` from async code; the same workflow (``run`` and ``arun`` with one id are one run)."""
        payload = self._payload(prompt, history, deps, session, approvals)
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
        session: Session | str | None = None,
        approvals: Mapping[str, bool] | None = None,
    ) -> DurableHandle[OutputT]:
        """Start the run in the background; a handle to wait for it."""
        return self._start(self._payload(prompt, history, deps, session, approvals), workflow_id)

    def enqueue(
        self,
        queue: Queue | str,
        prompt: Prompt,
        *,
        workflow_id: str | None = None,
        history: History | None = None,
        deps: Any = None,
        session: Session | str | None = None,
        approvals: Mapping[str, bool] | None = None,
        client: DBOSClient | None = None,
    ) -> DurableHandle[OutputT]:
        """Put the run on a DBOS queue: whichever process serves that queue runs it.

        From a process that does not run workflows itself (a web front end), pass a ``DBOSClient``.
        """
        payload = self._payload(prompt, history, deps, session, approvals, here=False)
        workflow_id = workflow_id or _new_id()
        name = queue if isinstance(queue, str) else queue.name
        if client is not None:
            options: EnqueueOptions = {"queue_name": name, "workflow_name": self.workflow_name}
            options["workflow_id"] = workflow_id
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

    # ------------------------------------------------------------------------------------------ inputs
    def _start(self, payload: dict[str, Any], workflow_id: str | None) -> DurableHandle[OutputT]:
        with SetWorkflowID(workflow_id or _new_id()):
            return DurableHandle(DBOS.start_workflow(self._workflow_from_sync, payload), self)

    def _payload(
        self,
        prompt: Prompt,
        history: History | None,
        deps: Any,
        session: Session | str | None,
        approvals: Mapping[str, bool] | None,
        *,
        here: bool = True,
    ) -> dict[str, Any]:
        """The workflow's inputs, as JSON data (checked here, so a bad input fails before anything is stored).

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
            if session is not None:
                raise ValueError("give session= or history=, not both (the session holds the history)")
            payload["history"] = _codec.messages_to_data(history)
        if session is not None:
            if self._sessions is None:
                raise ValueError(
                    "session= needs to know where sessions live in every process: "
                    "DBOSAgent(agent, name=..., sessions='sqlite:///conversations.db') (or a function of the id)"
                )
            payload["session"] = session if isinstance(session, str) else session.session_id
        if approvals is not None:
            payload["approvals"] = check_decisions(approvals)
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

    # ------------------------------------------------------------------------------------------ the workflow
    async def _execute(self, payload: Mapping[str, Any]) -> str:
        """The workflow's body, in whichever process runs (or recovers) it: inputs back to live values."""
        prompt: Prompt = payload.get("prompt")
        if "prompt_message" in payload:
            prompt = _codec.messages_from_data([payload["prompt_message"]])[0]
        history = _codec.messages_from_data(payload["history"]) if "history" in payload else None
        session = self._open_session(payload["session"]) if "session" in payload else None
        return await self._driver.run(prompt, history, self._deps(payload), session, payload.get("approvals"))

    def _deps(self, payload: Mapping[str, Any]) -> Any:
        if "deps_ref" in payload:
            name = payload["deps_ref"]
            if name not in self._live_deps:
                raise KeyError(f"this process registered no deps as {name!r} (bot.register_deps({name!r}, obj))")
            return self._live_deps[name]
        return payload.get("deps", self.agent.deps)

    def _open_session(self, session_id: str) -> Session:
        store = self._sessions
        if store is None:
            raise ValueError(f"this process cannot open session {session_id!r}: DBOSAgent(..., sessions=...)")
        if isinstance(store, str):
            from ..sessions import open_session

            return open_session(store, session_id)
        return store(session_id)

    def _decode(self, data: str) -> RunResult[OutputT]:
        return RunResult.from_json(data, self.agent._plan.output_type)


_NO_STREAMING = (
    "DBOSAgent does not stream: a durable run is checkpointed at each model call and tool call, and a stream "
    "cut by a crash could not be replayed. Use bot.run()/bot.arun(), or Agent.run_stream outside DBOS."
)


def _new_id() -> str:
    return str(uuid.uuid4())
