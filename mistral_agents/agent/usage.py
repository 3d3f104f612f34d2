"""What a run spends (`RunUsage`) and the caps on it (`UsageLimits`) — plain values, checked by the loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from ..models.common import UsageInfo

__all__ = ["RunUsage", "UsageLimits"]


class RunUsage(UsageInfo):
    """A run's usage: the tokens of every model call (a [`UsageInfo`][mistral_agents.models.common.UsageInfo]),
    the model requests sent and the tool calls run — agents called as tools included."""

    #: Model requests sent (one per model call; a call that failed and fell back to another model counts too).
    requests: int = 0
    #: Tool calls that ran (calls the model got an error for without running — unknown tool, bad arguments,
    #: denied — are not counted).
    tool_calls: int = 0

    def __add__(self, other: UsageInfo) -> RunUsage:
        return RunUsage(
            prompt_tokens=self.prompt_tokens + other.prompt_tokens,
            completion_tokens=(self.completion_tokens or 0) + (other.completion_tokens or 0),
            total_tokens=self.total_tokens + other.total_tokens,
            requests=self.requests + (other.requests if isinstance(other, RunUsage) else 0),
            tool_calls=self.tool_calls + (other.tool_calls if isinstance(other, RunUsage) else 0),
        )

    def __radd__(self, other: UsageInfo) -> RunUsage:
        return self + other

    def counted(self, *, requests: int = 0, tool_calls: int = 0) -> RunUsage:
        """A copy with more requests or tool calls."""
        counts = {"requests": self.requests + requests, "tool_calls": self.tool_calls + tool_calls}
        return self.model_copy(update=counts)


#: Limit name → how to read the spent amount from a `RunUsage`.
_SPENT: dict[str, Callable[[RunUsage], int]] = {
    "requests": lambda u: u.requests,
    "input_tokens": lambda u: u.prompt_tokens,
    "output_tokens": lambda u: u.completion_tokens or 0,
    "total_tokens": lambda u: u.total_tokens,
    "tool_calls": lambda u: u.tool_calls,
}


@dataclass(frozen=True)
class UsageLimits:
    """Caps on what one run may spend; ``None`` is no cap. Exceeding one raises
    [`UsageLimitExceeded`][mistral_agents.agent.UsageLimitExceeded].

    Checked when it matters: a request that would exceed ``requests`` is not sent; the token caps after each
    response (a response can't be stopped halfway, so the run ends after the one that went over); ``tool_calls``
    before a step's tools run (a step whose calls would go over runs none of them). Agents called as tools
    (``agent.as_tool()``) spend from the same budget.

    Args:
        requests: Model requests per run.
        input_tokens: Prompt tokens, summed over the run's requests.
        output_tokens: Completion tokens, summed over the run's requests.
        total_tokens: Prompt plus completion tokens.
        tool_calls: Tool calls that run.
    """

    requests: int | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    total_tokens: int | None = None
    tool_calls: int | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                raise ValueError(f"UsageLimits.{f.name} must be a non-negative int or None, not {value!r}")

    def narrowed(self, other: UsageLimits | None) -> UsageLimits:
        """Each limit the stricter of the two (a run's limits narrow its agent's; they never lift them)."""
        if other is None:
            return self
        values: dict[str, Any] = {}
        for f in fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            values[f.name] = theirs if mine is None else mine if theirs is None else min(mine, theirs)
        return UsageLimits(**values)

    def remaining(self, usage: RunUsage) -> UsageLimits:
        """What is left of these limits after ``usage`` (what an agent called as a tool may still spend)."""
        return UsageLimits(
            **{
                f.name: None if getattr(self, f.name) is None else max(0, getattr(self, f.name) - _SPENT[f.name](usage))
                for f in fields(self)
            }
        )

    def exceeded(self, usage: RunUsage, names: tuple[str, ...] = tuple(_SPENT)) -> str | None:
        """The first of ``names`` whose limit ``usage`` is over, described; None when within every limit."""
        for name in names:
            limit = getattr(self, name)
            if limit is not None and _SPENT[name](usage) > limit:
                return f"{name} limit of {limit} exceeded ({_SPENT[name](usage)})"
        return None


#: The token caps, checked after each response.
TOKENS = ("input_tokens", "output_tokens", "total_tokens")


def effective(agent: UsageLimits | None, run: UsageLimits | None) -> UsageLimits | None:
    """The limits a run obeys: its agent's, narrowed by the run's own."""
    if agent is None:
        return run
    return agent.narrowed(run)
