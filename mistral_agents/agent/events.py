"""Typed events of a streamed run, in the order they happen."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ..tools import ToolOutcome

if TYPE_CHECKING:
    from .result import RunResult

__all__ = ["AgentEvent", "FinalResult", "NestedEvent", "TextDelta", "ToolCallEvent", "ToolResultEvent"]

OutputT = TypeVar("OutputT")


@dataclass(frozen=True)
class TextDelta:
    """A piece of the model's text as it streams in (``step`` is the model call it belongs to)."""

    text: str
    step: int
    #: The agent answering (its ``name``; it changes after a handoff).
    agent_name: str | None = None


@dataclass(frozen=True)
class ToolCallEvent:
    """The model asked for a tool call; it is about to run (with ``arguments`` as the model sent them)."""

    tool_call_id: str
    name: str
    arguments: str
    step: int
    #: The agent whose model made the call.
    agent_name: str | None = None


@dataclass(frozen=True)
class ToolResultEvent:
    """A tool call finished (successfully or not); ``outcome.content`` is what the model gets back."""

    outcome: ToolOutcome
    step: int
    #: The agent whose model made the call.
    agent_name: str | None = None

    @property
    def tool_call_id(self) -> str:
        return self.outcome.tool_call_id

    @property
    def name(self) -> str:
        return self.outcome.name

    @property
    def ok(self) -> bool:
        return self.outcome.ok


@dataclass(frozen=True)
class NestedEvent:
    """A tool call made by an agent called as a tool (``agent.as_tool()``): ``event`` is its ``ToolCallEvent``
    or ``ToolResultEvent`` (or, deeper down, another ``NestedEvent``), ``tool_call_id`` and ``name`` the call
    of this run that ran that agent. They come when the inner run has finished, just before that call's
    ``ToolResultEvent``; ``step`` is this run's step."""

    tool_call_id: str
    name: str
    event: ToolCallEvent | ToolResultEvent | NestedEvent
    step: int


@dataclass(frozen=True)
class FinalResult(Generic[OutputT]):
    """The run is over; ``result`` is what ``run`` would have returned."""

    result: RunResult[OutputT]


AgentEvent = TextDelta | ToolCallEvent | ToolResultEvent | NestedEvent | FinalResult[Any]
