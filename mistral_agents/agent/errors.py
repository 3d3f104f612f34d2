"""Errors an agent run can end with; each carries the transcript so far in ``.messages``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..models.chat_completion import ChatMessage

if TYPE_CHECKING:
    from ..tools import ToolOutcome
    from .usage import RunUsage

__all__ = ["AgentError", "MaxStepsExceeded", "ModelError", "OutputValidationError", "ToolError", "UsageLimitExceeded"]


class AgentError(Exception):
    """A run could not finish. ``messages`` holds the transcript up to the failure, ready to inspect or resume."""

    def __init__(self, message: str, messages: Sequence[ChatMessage] = ()) -> None:
        super().__init__(message)
        self.messages: list[ChatMessage] = list(messages)
        #: What the run had spent when it stopped (set by the loop on the way out).
        self.usage: RunUsage | None = None


class MaxStepsExceeded(AgentError):
    """The model was called ``max_steps`` times without giving a final answer."""


class ToolError(AgentError):
    """The model's tool calls failed more often than the run's error budget allows."""

    def __init__(self, message: str, messages: Sequence[ChatMessage] = (), outcomes: Sequence[ToolOutcome] = ()):
        super().__init__(message, messages)
        #: The failed calls, in the order they happened.
        self.outcomes = list(outcomes)


class OutputValidationError(AgentError):
    """The final answer did not match ``output_type``, even after asking the model once more."""


class ModelError(AgentError):
    """The model reported an error (``finish_reason`` ``"error"``) or the response had no choices."""


class UsageLimitExceeded(AgentError):
    """The run reached one of its [`UsageLimits`][mistral_agents.agent.UsageLimits]; ``usage`` is what it had
    spent, ``messages`` the transcript so far (a session keeps what completed, as for any failed run)."""

    def __init__(self, message: str, messages: Sequence[ChatMessage], usage: RunUsage) -> None:
        super().__init__(message, messages)
        self.usage: RunUsage = usage
