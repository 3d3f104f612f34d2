"""The result of a run."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..models.chat_completion import ChatMessage
from ..models.common import UsageInfo
from ..tools import ToolOutcome

__all__ = ["RunResult", "ToolCallRecord"]

OutputT = TypeVar("OutputT")

#: One tool call made during a run: name, arguments, result or error, duration.
ToolCallRecord = ToolOutcome


@dataclass
class RunResult(Generic[OutputT]):
    """What a run produced.

    ``output`` is the final answer (text, or an ``output_type`` instance); ``messages`` the whole transcript,
    ready to pass back as ``history=``; ``usage`` the tokens summed over every model call; ``steps`` the number
    of model calls; ``tool_calls`` every call that ran, in order, with its result or error.
    """

    output: OutputT
    messages: list[ChatMessage]
    usage: UsageInfo
    steps: int
    tool_calls: list[ToolOutcome] = field(default_factory=list)
    finish_reason: str | None = None
    new_message_index: int = 0

    @property
    def new_messages(self) -> list[ChatMessage]:
        """The messages this run added (the prompt, the model's turns and the tool results)."""
        return self.messages[self.new_message_index :]

    @property
    def truncated(self) -> bool:
        """True when the final answer was cut off by a token limit."""
        return self.finish_reason in ("length", "model_length")
