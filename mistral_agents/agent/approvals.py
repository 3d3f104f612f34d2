"""Approvals: who decides whether a tool declared ``requires_approval=True`` may run, and paused runs.

A call needing approval is decided, in order, by the ``approvals={tool_call_id: bool}`` a resumed run was given,
then by the agent's ``approver``. With no approver, or an approver answering
[`DEFER`][mistral_agents.agent.DEFER], the run pauses: ``result.pending`` lists the calls waiting for a
decision, and ``agent.run(None, ..., approvals=...)`` resumes it.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from ..models.chat_completion import ChatMessage, ToolCall
from ..tools import PreparedCall, Tool

__all__ = [
    "DEFER", "Approver", "PendingCall", "Verdict", "approve", "approve_async", "pending_calls", "unanswered", "verdict",
]  # fmt: skip


class _Defer:
    """The type of [`DEFER`][mistral_agents.agent.DEFER]."""

    _instance: _Defer | None = None

    def __new__(cls) -> _Defer:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFER"

    def __reduce__(self) -> str:
        return "DEFER"


DEFER: Final = _Defer()
"""An approver's answer meaning "not now": the run pauses with the call in ``result.pending``."""

#: Asked before a tool with ``requires_approval=True`` runs: True to allow it, False or a reason (str) to deny it,
#: [`DEFER`][mistral_agents.agent.DEFER] to pause the run until someone decides (``approvals=`` on a later run).
Approver = Callable[[PreparedCall], "bool | str | _Defer | Awaitable[bool | str | _Defer]"]

#: A decision: True (run it), a reason or None (denied), or DEFER (pause).
Verdict = Literal[True] | str | None | _Defer


@dataclass(frozen=True)
class PendingCall:
    """A tool call waiting for approval: ``arguments`` is the JSON text the model sent."""

    tool_call_id: str
    name: str
    arguments: str

    def to_data(self) -> dict[str, str]:
        return {"tool_call_id": self.tool_call_id, "name": self.name, "arguments": self.arguments}


def unanswered(messages: Sequence[ChatMessage]) -> list[ToolCall]:
    """The tool calls of the last assistant message that have no result after it (a paused run's calls)."""
    for position in range(len(messages) - 1, -1, -1):
        message = messages[position]
        if message.role == "tool":
            continue
        if message.role != "assistant" or not message.tool_calls:
            return []
        answered = {m.tool_call_id for m in messages[position + 1 :]}
        return [call for call in message.tool_calls if call.id not in answered]
    return []


def pending_calls(
    messages: Sequence[ChatMessage], tools: Mapping[str, Tool[..., Any]] | None = None
) -> list[PendingCall]:
    """The calls a paused conversation waits on (e.g. ``session.get_messages()`` or ``result.messages``).

    With ``tools`` (``agent.tools``), only the calls of tools declared ``requires_approval=True``: the ids a
    resumed run accepts in ``approvals=``.
    """
    return [
        PendingCall(call.id, call.function.name, call.function.arguments)
        for call in unanswered(messages)
        if tools is None or (call.function.name in tools and tools[call.function.name].requires_approval)
    ]


def verdict(answer: Any) -> Verdict:
    """An approver's (or a caller's) answer as a decision."""
    if answer is DEFER or answer is True:
        return answer
    return answer if isinstance(answer, str) and answer else None


def approve(
    calls: Sequence[PreparedCall], approver: Approver | None, run_coroutine: Callable[[Any], Any]
) -> list[Verdict]:
    """Ask ``approver`` about each call, in order, from sync code (an async approver through ``run_coroutine``)."""
    if approver is None:
        return [DEFER for _ in calls]
    if inspect.iscoroutinefunction(approver):
        return run_coroutine(approve_async(calls, approver))  # type: ignore[no-any-return]
    answers: list[Verdict] = []
    for call in calls:
        answer = approver(call)
        if inspect.isawaitable(answer):
            answer = run_coroutine(_await(answer))
        answers.append(verdict(answer))
    return answers


async def approve_async(calls: Sequence[PreparedCall], approver: Approver | None) -> list[Verdict]:
    """Ask ``approver`` about each call, in order, awaiting an async approver."""
    if approver is None:
        return [DEFER for _ in calls]
    answers: list[Verdict] = []
    for call in calls:
        answer = approver(call)
        answers.append(verdict(await answer if inspect.isawaitable(answer) else answer))
    return answers


def check_decisions(approvals: Mapping[str, bool] | None) -> dict[str, bool]:
    """``approvals`` as a plain dict of id → bool (anything else is a ``TypeError``)."""
    if approvals is None:
        return {}
    if not isinstance(approvals, Mapping):
        raise TypeError("approvals must be a mapping of tool_call_id to True (approve) or False (deny)")
    for key, value in approvals.items():
        if not isinstance(key, str) or not isinstance(value, bool):
            raise TypeError(f"approvals maps tool_call_id (str) to a bool; got {key!r}: {value!r}")
    return dict(approvals)


async def _await(awaitable: Awaitable[Any]) -> Any:
    return await awaitable
