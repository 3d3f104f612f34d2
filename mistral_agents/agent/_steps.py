"""The agent loop as a plain generator: it decides, the drivers do the I/O.

`drive` yields *effects* — `CallModel` (send this request, send me back the response), `ListTools` (list
the tool sources, send me back the step's registry), `Approve` (ask the approver about these calls, send me back
the verdicts), `RunTools` (run these prepared calls, send me back their outcomes) and `Emit` (an event for a
streaming caller) — and returns the `RunResult` (a paused one when a call waits for approval). The sync and async
drivers in `agent` are the only places that talk to the client or run tools, so the decisions below exist once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Generator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from .._wire import EncodedMessages, json_schema_format, message_dict
from ..exceptions import MistralAPIException, MistralConnectionException, MistralException
from ..models.chat_completion import ChatCompletionResponse, ChatMessage, ToolCall, content_text
from ..models.common import UsageInfo
from ..tools import PreparedCall, RunContext, ToolOutcome, ToolRegistry
from . import _transcript
from ._window import HistoryWindow
from .approvals import DEFER, PendingCall, Verdict, check_decisions, unanswered
from .errors import AgentError, MaxStepsExceeded, ModelError, OutputValidationError, ToolError, UsageLimitExceeded
from .events import AgentEvent, FinalResult, NestedEvent, ToolCallEvent, ToolResultEvent
from .result import RunResult
from .usage import TOKENS, RunUsage, UsageLimits, effective

logger = logging.getLogger("mistral_agents.agent")


_FORCING_CHOICES = frozenset({"any", "required"})


# --------------------------------------------------------------------------------------------------- effects
@dataclass(frozen=True)
class CallModel:
    """Send ``request`` (keyword arguments of ``client.chat``); answer with the ``ChatCompletionResponse``."""

    request: dict[str, Any]
    step: int
    #: The agent making the call (``name``; it changes after a handoff).
    agent_name: str | None = None


@dataclass(frozen=True)
class RunTools:
    """Run the prepared calls; answer with one ``ToolOutcome`` per item, in the same order.

    Items that are already ``ToolOutcome`` (unknown tool, invalid arguments, over the per-step cap) are
    finished: the driver passes them through unchanged.
    """

    calls: list[PreparedCall | ToolOutcome]
    step: int


@dataclass(frozen=True)
class ListTools:
    """List the agent's tool sources (only yielded when it has some); answer with the step's ``ToolRegistry``."""

    step: int


@dataclass(frozen=True)
class Approve:
    """Ask the approver about each call (all declared ``requires_approval=True``); answer with one
    ``Verdict`` per call, in order (``approve`` / ``approve_async``)."""

    calls: list[PreparedCall]
    step: int


@dataclass(frozen=True)
class Emit:
    """An event for a streaming caller (ignored by ``run``/``arun``)."""

    event: AgentEvent


Effect = CallModel | RunTools | ListTools | Approve | Emit


# --------------------------------------------------------------------------------------------------- plan
class Handoff(NamedTuple):
    """A handoff the model may make: calling ``tool_name`` moves the run to the agent named ``agent_name``,
    whose plan ``plan()`` returns (looked up when the handoff happens, so agents may hand off to each other)."""

    tool_name: str
    agent_name: str
    plan: Callable[[], Plan]


#: The tool result answering a transfer that happened (a resumed session finds the current agent by it).
TRANSFERRED = "Transferred to {name}: {name} answers from here on."


@dataclass(frozen=True)
class Plan:
    """What never changes between runs of one agent, computed once at construction."""

    model: str
    registry: ToolRegistry
    system_prompt: str | None
    tool_choice: Any
    max_steps: int
    max_tool_errors: int
    max_tool_calls_per_step: int
    output_type: type[BaseModel] | None
    base_request: dict[str, Any]
    #: Whether tools are also listed at run time (tool sources): then each step starts with ``ListTools``.
    lists_tools: bool = False
    #: What of a long history is sent (None: all of it); the session keeps everything.
    window: HistoryWindow | None = None
    #: The agent's caps on a run's usage (a run's own ``usage_limits=`` narrow them).
    usage_limits: UsageLimits | None = None
    #: Tried in order when a model call fails with an error another model may not have (429, 5xx, timeout, ...).
    fallback_models: tuple[str, ...] = ()
    #: The agent's name (events and results say who answered).
    agent_name: str | None = None
    #: The agents the model may hand the conversation to (each with a ``transfer_to_...`` tool in ``registry``).
    handoffs: tuple[Handoff, ...] = ()

    @classmethod
    def build(
        cls,
        model: str,
        registry: ToolRegistry,
        *,
        system_prompt: str | None,
        tool_choice: Any,
        max_steps: int,
        max_tool_errors: int,
        max_tool_calls_per_step: int,
        output_type: type[BaseModel] | None,
        chat_params: Mapping[str, Any],
        lists_tools: bool = False,
        window: HistoryWindow | None = None,
        usage_limits: UsageLimits | None = None,
        fallback_models: Sequence[str] = (),
        agent_name: str | None = None,
        handoffs: Sequence[Handoff] = (),
    ) -> Plan:
        request: dict[str, Any] = {"model": model, **chat_params}
        if registry:
            request["tools"] = list(registry.values())
        if output_type is not None:
            request["response_format"] = json_schema_format(output_type)
        return cls(
            model, registry, system_prompt, tool_choice, max_steps, max_tool_errors,
            max_tool_calls_per_step, output_type, request, lists_tools, window, usage_limits, tuple(fallback_models),
            agent_name, tuple(handoffs),
        )  # fmt: skip


@dataclass
class RunState:
    """Everything one run accumulates."""

    messages: list[ChatMessage]
    new_message_index: int
    deps: Any
    ids: _transcript.IdAllocator
    usage: RunUsage = field(default_factory=RunUsage)
    steps: int = 0
    tool_calls: list[ToolOutcome] = field(default_factory=list)
    failures: list[ToolOutcome] = field(default_factory=list)
    forced_choice_used: bool = False
    output_retry_used: bool = False
    #: ``messages`` in wire form, extended as the transcript grows (it only ever grows).
    wire: list[dict[str, Any]] = field(default_factory=list)
    #: ``messages[:settled]`` is complete: no tool call of this run waits for its results. A failed run keeps this.
    settled: int = 0
    #: The caller's decisions on pending calls (``approvals=``), by tool-call id.
    decisions: dict[str, bool] = field(default_factory=dict)
    #: A paused run being resumed: the trailing assistant message whose calls are not all answered yet.
    open_block: ChatMessage | None = None
    #: The tools of this step, when listed at run time (else the plan's registry).
    listed: ToolRegistry | None = None
    #: Calls of sync tools that timed out (they may still complete): never started again in this run.
    unfinished: set[tuple[str, str]] = field(default_factory=set)
    #: The caps this run obeys (the agent's, narrowed by the run's own).
    limits: UsageLimits | None = None
    #: The model that answered each model call, in order (``fallback_models`` may answer some).
    models_used: list[str] = field(default_factory=list)
    #: The agent the run is with, when a handoff (in this run or the history) moved it from the starting one.
    plan: Plan | None = None
    #: The names of the agents handed to in this run, in order.
    handoffs: list[str] = field(default_factory=list)
    #: A transfer the model asked for in the step being run (made once the step's results are in).
    transfer: Handoff | None = None

    def registry(self, plan: Plan) -> ToolRegistry:
        return plan.registry if self.listed is None else self.listed


def start(
    plan: Plan,
    prompt: str | ChatMessage | None,
    history: Sequence[ChatMessage | Mapping[str, Any]] | None,
    deps: Any,
    approvals: Mapping[str, bool] | None = None,
    usage_limits: UsageLimits | None = None,
) -> RunState:
    """A new run: the history made valid (and windowed), the system prompt first (unless the history has one),
    the prompt last. With no prompt, a history ending with unanswered tool calls (a paused run) is resumed:
    ``approvals`` decides the pending ones (an id that is not pending is a ``ValueError``)."""
    decisions = check_decisions(approvals)
    if decisions and prompt is not None:
        raise ValueError("approvals resume a paused run: pass prompt=None (the decisions are the next step)")
    ids = _transcript.IdAllocator()
    if plan.window is not None and history:  # before the rest: a long history costs only what is sent
        history = plan.window.apply([ChatMessage.model_validate(m) for m in history])
    messages = _transcript.normalize_history(history or (), ids, leave_open=prompt is None)
    current = _current_agent(plan, messages)
    starting, plan = plan, current
    open_block = _open_block(messages)
    if decisions:
        waiting = [] if open_block is None else [c.id for c in unanswered(messages) if _needs_approval(plan, c)]
        stray = [key for key in decisions if key not in waiting]
        if stray:
            raise ValueError(
                f"not pending approval: {', '.join(map(repr, stray))}; "
                f"pending: {', '.join(map(repr, waiting)) or 'none'}"
            )
    if plan.system_prompt and not any(m.role == "system" for m in messages):
        messages.insert(0, ChatMessage(role="system", content=plan.system_prompt))
    new_index = len(messages)
    if prompt is not None:
        _transcript.prepare_for_user_turn(messages)
        new_index = len(messages)
        messages.append(prompt if isinstance(prompt, ChatMessage) else ChatMessage(role="user", content=prompt))
    if open_block is None and (not messages or messages[-1].role not in ("user", "tool")):
        raise ValueError("a run needs a prompt (or a history ending with a user message or tool results)")
    return RunState(
        messages=messages, new_message_index=new_index, deps=deps, ids=ids, settled=len(messages),
        decisions=decisions, open_block=open_block, forced_choice_used=open_block is not None,
        limits=effective(starting.usage_limits, usage_limits), plan=None if current is starting else current,
    )  # fmt: skip


def _open_block(messages: Sequence[ChatMessage]) -> ChatMessage | None:
    if not unanswered(messages):
        return None
    return next(m for m in reversed(messages) if m.role == "assistant")


def _needs_approval(plan: Plan, call: ToolCall) -> bool:
    if plan.lists_tools:  # tools listed at run time are not known yet: any unanswered call may be decided
        return True
    tool = plan.registry.get(call.function.name)
    return tool is not None and tool.requires_approval


# --------------------------------------------------------------------------------------------------- the loop
def drive(plan: Plan, state: RunState) -> Generator[Effect, Any, RunResult[Any]]:
    """The loop: call the model, run the tools it asks for, repeat until it answers (or a call awaits approval).

    An error ending the run carries what it had spent (``AgentError.usage``)."""
    try:
        return (yield from _drive(plan, state))
    except AgentError as error:
        if error.usage is None:
            error.usage = state.usage
        raise


def _drive(plan: Plan, state: RunState) -> Generator[Effect, Any, RunResult[Any]]:
    max_steps = plan.max_steps  # the starting agent's: it bounds the run whoever it is handed to
    plan = state.plan or plan  # a session resumed with the agent that answered last
    if state.open_block is not None:  # a paused run resumed: its calls first
        if plan.lists_tools:
            state.listed = yield ListTools(state.steps)
        waiting_ids = {call.id for call in unanswered(state.messages)}
        calls = [c for c in _prepare(plan, state, state.open_block, state.open_block) if c.tool_call_id in waiting_ids]
        pending = yield from _tool_step(plan, state, calls, state.steps, resuming=True)
        if pending:
            return (yield from _paused(plan, state, pending))
        plan = _hand_off(plan, state)
    while True:
        if state.steps >= max_steps:
            raise MaxStepsExceeded(
                f"the model made {state.steps} calls (max_steps={max_steps}) without a final answer",
                state.messages,
            )
        state.steps += 1
        step = state.steps
        if plan.lists_tools:
            state.listed = yield ListTools(step)
        response = yield from _call_model(plan, state, step)
        message, finish_reason = _accept(state, response)
        _check_usage(state, TOKENS)
        logger.debug("step %d: finish_reason=%s, %d tool call(s)", step, finish_reason, len(message.tool_calls or ()))
        if message.tool_calls:
            calls = _prepare(plan, state, message, response.choices[0].message)
            pending = yield from _tool_step(plan, state, calls, step, resuming=False)
            if pending:
                return (yield from _paused(plan, state, pending))
            plan = _hand_off(plan, state)
            continue
        if finish_reason == "error":
            raise ModelError("the model stopped with finish_reason 'error'", state.messages)
        if finish_reason in ("length", "model_length"):
            logger.warning("the final answer was cut off by a token limit (finish_reason=%s)", finish_reason)
        output = _output(plan, state, message)
        if output is _ASK_AGAIN:
            continue
        reason = None if finish_reason is None else str(getattr(finish_reason, "value", finish_reason))
        return (yield from _finish(state, output, reason, plan=plan))


def _tool_step(
    plan: Plan, state: RunState, calls: list[PreparedCall | ToolOutcome], step: int, *, resuming: bool
) -> Generator[Effect, Any, list[PendingCall]]:
    """Decide approvals, run what may run, append the results; returns the calls still awaiting a decision.

    In a new step, a call awaiting a decision pauses the run before anything of the step runs. In a resumed step,
    everything decided (or needing no approval) runs now, in call order, and the undecided calls stay pending.
    """
    calls = _transfers(plan, state, calls)
    asking = [
        c
        for c in calls
        if isinstance(c, PreparedCall) and c.tool.requires_approval and c.tool_call_id not in state.decisions
    ]
    verdicts: dict[str, Verdict] = {}
    if asking:
        answers: list[Verdict] = yield Approve(asking, step)
        verdicts = {c.tool_call_id: v for c, v in zip(asking, answers, strict=True)}
    for call_id, approved in state.decisions.items():
        verdicts[call_id] = True if approved else None
    waiting = [c for c in asking if verdicts[c.tool_call_id] is DEFER]
    pending = [PendingCall(c.tool_call_id, c.name, c.arguments) for c in waiting]
    if pending and not resuming:
        return pending
    ready: list[PreparedCall | ToolOutcome] = []
    for call in calls:
        if isinstance(call, PreparedCall) and call.tool.requires_approval:
            verdict = verdicts[call.tool_call_id]
            if verdict is DEFER:
                continue
            if verdict is not True:
                ready.append(state.registry(plan).deny(call, verdict if isinstance(verdict, str) else None))
                continue
        ready.append(call)
    _count_tool_calls(state, ready)
    for call in ready:
        yield Emit(ToolCallEvent(call.tool_call_id, call.name, call.arguments, step, plan.agent_name))
    outcomes: list[ToolOutcome] = []
    if ready:
        outcomes = yield RunTools(ready, step)
    for outcome in outcomes:
        spent = _spent_by(outcome)
        if spent is not None:
            state.usage = state.usage + spent
        state.messages.append(outcome.message)
        state.tool_calls.append(outcome)
        if outcome.still_running and outcome.key is not None:
            state.unfinished.add(outcome.key)
    state.settled = len(state.messages)  # the step's side effects are done: never forget them
    for outcome in outcomes:
        for event in _nested_events(outcome, step):
            yield Emit(event)
        yield Emit(ToolResultEvent(outcome, step, plan.agent_name))
    _charge_errors(plan, state, outcomes)
    _check_usage(state)  # agents called as tools spent from the same budget
    return pending


def _paused(plan: Plan, state: RunState, pending: list[PendingCall]) -> Generator[Effect, Any, RunResult[Any]]:
    """The run stops here until someone decides on ``pending`` (the transcript ends with their call)."""
    state.transfer = None  # a transfer asked for beside calls awaiting approval is made when the step is resumed
    return (yield from _finish(state, None, "tool_calls", pending, plan=plan))


def _finish(
    state: RunState,
    output: Any,
    finish_reason: str | None,
    pending: list[PendingCall] | None = None,
    *,
    plan: Plan,
) -> Generator[Effect, Any, RunResult[Any]]:
    """The run's result, announced: the whole transcript is settled (a session stores all of it)."""
    state.settled = len(state.messages)
    result: RunResult[Any] = RunResult(
        output=output,
        messages=state.messages,
        usage=state.usage,
        steps=state.steps,
        tool_calls=state.tool_calls,
        finish_reason=finish_reason,
        new_message_index=state.new_message_index,
        pending=pending or [],
        models_used=state.models_used,
        agent_name=plan.agent_name,
        handoffs=state.handoffs,
    )
    yield Emit(FinalResult(result))
    return result


# --------------------------------------------------------------------------------------------------- run controls
def _call_model(plan: Plan, state: RunState, step: int) -> Generator[Effect, Any, ChatCompletionResponse]:
    """One model call: the request to the agent's model, and — when that fails with an error another model may
    not have (``falls_back``) — the same request to each fallback model in turn. Each request is counted (and
    refused past the ``requests`` limit) before it is sent."""
    request = _request(plan, state)
    models = (plan.model, *plan.fallback_models)
    for position, model in enumerate(models):
        limits = state.limits
        if limits is not None and limits.requests is not None and state.usage.requests >= limits.requests:
            raise UsageLimitExceeded(
                f"requests limit of {limits.requests} reached: request {state.usage.requests + 1} was not sent",
                state.messages,
                state.usage,
            )
        state.usage = state.usage.counted(requests=1)
        try:
            response: ChatCompletionResponse = yield CallModel(
                request if position == 0 else {**request, "model": model}, step, plan.agent_name
            )
        except MistralException as error:
            if position + 1 == len(models) or not falls_back(error):
                raise
            logger.warning("model %r failed (%s); trying %r", model, error, models[position + 1])
            continue
        state.models_used.append(response.model or model)
        return response
    raise AssertionError("unreachable")  # pragma: no cover


def falls_back(error: BaseException) -> bool:
    """Whether a failed model call goes to the next fallback model: a rate limit (429), a server error (5xx),
    a request timeout (408), a timeout or a connection error — what another model (or deployment) may not have.
    A request the API refused (400, 401, 403, 404, 422) would be refused again: it is raised."""
    if isinstance(error, MistralConnectionException):  # timeouts included
        return True
    if isinstance(error, MistralAPIException) and error.status_code is not None:
        return error.status_code in (408, 429) or error.status_code >= 500
    return False


def _count_tool_calls(state: RunState, ready: Sequence[PreparedCall | ToolOutcome]) -> None:
    """Count the calls about to run; a step that would go over the ``tool_calls`` limit runs none of them."""
    running = sum(isinstance(call, PreparedCall) for call in ready)
    limits = state.limits
    if limits is not None and limits.tool_calls is not None and state.usage.tool_calls + running > limits.tool_calls:
        raise UsageLimitExceeded(
            f"tool_calls limit of {limits.tool_calls} reached: the model asked for {running} more "
            f"after {state.usage.tool_calls}; none of them ran",
            state.messages,
            state.usage,
        )
    state.usage = state.usage.counted(tool_calls=running)


def _check_usage(state: RunState, names: tuple[str, ...] | None = None) -> None:
    """Raise ``UsageLimitExceeded`` when the usage so far is over a limit (of ``names``; default: all)."""
    if state.limits is None:
        return
    over = state.limits.exceeded(state.usage) if names is None else state.limits.exceeded(state.usage, names)
    if over is not None:
        raise UsageLimitExceeded(over, state.messages, state.usage)


def _spent_by(outcome: ToolOutcome) -> UsageInfo | None:
    """What a tool spent on model calls (an agent called as a tool: its run's usage, kept in durable steps too)."""
    return outcome.usage


# --------------------------------------------------------------------------------------------------- handoffs
def _transfers(
    plan: Plan, state: RunState, calls: list[PreparedCall | ToolOutcome]
) -> list[PreparedCall | ToolOutcome]:
    """Answer the step's ``transfer_to_...`` calls (they never run): the first one is made once the step's other
    calls are done, any other one is refused. The rest of the calls are returned unchanged."""
    targets = {handoff.tool_name: handoff for handoff in plan.handoffs}
    if not targets:
        return calls
    answered: list[PreparedCall | ToolOutcome] = []
    for call in calls:
        handoff = targets.get(call.name) if isinstance(call, PreparedCall) else None
        if handoff is None or not isinstance(call, PreparedCall):
            answered.append(call)
        elif state.transfer is None:
            state.transfer = handoff
            answered.append(state.registry(plan).finish(call, result=TRANSFERRED.format(name=handoff.agent_name)))
        else:
            text = f"not transferred to {handoff.agent_name}: only one transfer per answer is made."
            answered.append(state.registry(plan).finish(call, error=RuntimeError(text)))
    return answered


def _hand_off(plan: Plan, state: RunState) -> Plan:
    """After a tool step: the plan the run goes on with (the transfer's agent, or the same one)."""
    handoff, state.transfer = state.transfer, None
    if handoff is None:
        return plan
    target = handoff.plan()
    state.handoffs.append(handoff.agent_name)
    state.plan = target
    state.listed = None  # the tools listed for the previous agent are not the new one's
    state.forced_choice_used = False  # the new agent's tool_choice applies to its first request
    if target.system_prompt and state.messages and state.messages[0].role == "system":
        state.messages[0] = ChatMessage(role="system", content=target.system_prompt)  # what result.messages shows
    logger.debug("handed off to %s", handoff.agent_name)
    return target


def _with_system_prompt(plan: Plan, wire: list[dict[str, Any]]) -> EncodedMessages:
    """After a handoff, the messages sent carry the current agent's system prompt (or none), not the first's."""
    body = wire[1:] if wire and wire[0].get("role") == "system" else wire
    if plan.system_prompt:
        return EncodedMessages([{"role": "system", "content": plan.system_prompt}, *body])
    return EncodedMessages(body)


def _current_agent(plan: Plan, messages: Sequence[ChatMessage]) -> Plan:
    """The agent a conversation is with: the starting one, moved by every transfer its transcript records (each
    one a handoff of the agent it was with then)."""
    if not plan.handoffs:
        return plan
    current = plan
    for message in messages:
        if message.role != "tool" or not isinstance(message.content, str):
            continue
        handoff = next((h for h in current.handoffs if h.tool_name == message.name), None)
        if handoff is not None and message.content == TRANSFERRED.format(name=handoff.agent_name):
            current = handoff.plan()
    return current


def _nested_events(outcome: ToolOutcome, step: int) -> list[NestedEvent]:
    """The tool calls of an agent called as a tool (its ``RunResult`` is the outcome's result), in order."""
    inner = outcome.result
    if not isinstance(inner, RunResult):
        return []
    events: list[NestedEvent] = []
    for call in inner.tool_calls:
        wrapped: list[ToolCallEvent | ToolResultEvent | NestedEvent] = [
            ToolCallEvent(call.tool_call_id, call.name, call.arguments, step),
            *_nested_events(call, step),
            ToolResultEvent(call, step),
        ]
        events.extend(NestedEvent(outcome.tool_call_id, outcome.name, event, step) for event in wrapped)
    return events


def context(state: RunState) -> RunContext[Any]:
    """The context handed to tools that ask for one (they see the usage and transcript so far)."""
    return RunContext(deps=state.deps, usage=state.usage, messages=state.messages, step=state.steps)


def _request(plan: Plan, state: RunState) -> dict[str, Any]:
    request = dict(plan.base_request)
    wire = state.wire
    if len(wire) < len(state.messages):
        wire.extend(message_dict(message) for message in state.messages[len(wire) :])
    request["messages"] = EncodedMessages(wire) if not state.handoffs else _with_system_prompt(plan, wire)
    registry = state.registry(plan)
    if plan.lists_tools:
        request.pop("tools", None)
        if registry:
            request["tools"] = list(registry.values())
    if registry:
        choice = plan.tool_choice
        if state.forced_choice_used and _forces(choice):
            choice = "auto"  # after a forced call, let the model answer
        request["tool_choice"] = choice
        if _forces(choice):
            state.forced_choice_used = True
    return request


def _forces(choice: Any) -> bool:
    value = getattr(choice, "value", choice)
    if not isinstance(value, str):  # the object form, or a Tool: a named tool
        return True
    return value in _FORCING_CHOICES or value not in ("auto", "none")


def _accept(state: RunState, response: ChatCompletionResponse) -> tuple[ChatMessage, Any]:
    state.usage = state.usage + response.usage
    if not response.choices:
        raise ModelError("the model returned no choices", state.messages)
    choice = response.choices[0]
    message = _transcript.with_valid_ids(choice.message, state.ids)
    if message.role != "assistant":
        message = message.model_copy(update={"role": "assistant"})
    if message.tool_calls or _transcript.has_content(message):
        state.messages.append(message)
    return message, choice.finish_reason


def _prepare(plan: Plan, state: RunState, message: ChatMessage, sent: ChatMessage) -> list[PreparedCall | ToolOutcome]:
    """``message`` is the transcript's copy of ``sent`` (ids and names made valid); a renamed call is unknown."""
    ctx = context(state)
    calls: list[PreparedCall | ToolOutcome] = []
    for position, (call, original) in enumerate(zip(message.tool_calls or (), sent.tool_calls or (), strict=True)):
        if position >= plan.max_tool_calls_per_step:
            calls.append(_over_cap(call.id, call.function.name, call.function.arguments, plan.max_tool_calls_per_step))
        elif call.function.name != original.function.name:  # not a valid tool name: never looked up
            calls.append(
                _unknown(state, plan, call.id, call.function.name, original.function.name, call.function.arguments)
            )
        else:
            prepared = state.registry(plan).prepare(call, ctx)
            if isinstance(prepared, PreparedCall) and prepared.key in state.unfinished:
                prepared = state.registry(plan).not_again(prepared)
            calls.append(prepared)
    return calls


def _unknown(state: RunState, plan: Plan, call_id: str, name: str, sent_name: str, arguments: str) -> ToolOutcome:
    shown = sent_name if len(sent_name) <= 80 else sent_name[:79] + "…"
    text = f"unknown tool {shown!r}. Available tools: {', '.join(state.registry(plan)) or 'none'}."
    return ToolOutcome(call_id, name, arguments, None, None, f"Error: {text}", text, "unknown_tool", None, 0.0)


def _over_cap(call_id: str, name: str, arguments: str, cap: int) -> ToolOutcome:
    text = f"too many tool calls in one message: only the first {cap} were run. Call the others in a later turn."
    return ToolOutcome(call_id, name, arguments, None, None, f"Error: {text}", text, "tool_exception", None, 0.0)


def _charge_errors(plan: Plan, state: RunState, outcomes: list[ToolOutcome]) -> None:
    failed = [o for o in outcomes if not o.ok and o.error_kind != "denied"]
    if not failed:
        return
    state.failures.extend(failed)
    if len(state.failures) > plan.max_tool_errors:
        last = state.failures[-1]
        raise ToolError(
            f"too many failed tool calls ({len(state.failures)}, max_tool_errors={plan.max_tool_errors}); "
            f"last: {last.error}",
            state.messages,
            state.failures,
        )


_ASK_AGAIN: Any = object()


def _output(plan: Plan, state: RunState, message: ChatMessage) -> Any:
    text = content_text(message.content)  # of chunks (e.g. thinking + text), the text parts are the answer
    if plan.output_type is None:
        return text
    try:
        return plan.output_type.model_validate_json(text)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in error.errors(include_url=False)
        )
        if state.output_retry_used:
            raise OutputValidationError(
                f"the final answer does not match {plan.output_type.__name__}: {problems}", state.messages
            ) from None
        state.output_retry_used = True
        if not _transcript.has_content(message):
            state.messages.append(ChatMessage(role="assistant", content=text or "(no answer)"))
        state.messages.append(
            ChatMessage(
                role="user",
                content=f"Your answer is not valid {plan.output_type.__name__} JSON: {problems}. "
                "Reply again with only a JSON object that matches the schema.",
            )
        )
        return _ASK_AGAIN


__all__ = [
    "Approve", "CallModel", "Effect", "Emit", "ListTools", "Plan", "RunState", "RunTools", "context", "drive", "start",
]  # fmt: skip
