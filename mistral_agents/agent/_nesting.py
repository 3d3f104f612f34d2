"""Agents calling agents: what a run's tools know of the run calling them, through context variables.

While a run's tools run, ``calling`` makes the run the *caller*: its client, its instrumentation and what is left
of its usage limits. Context variables follow the tools into the threads and tasks that run them (``_execution``
copies the context), so an agent run from a tool (``agent.as_tool()``) finds its caller there: it uses the
caller's client when it has none of its own, is traced under the caller's ``execute_tool`` span when it has no
instrumentation of its own, and spends from the caller's budget. ``depth`` counts agents nested as tools.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..async_client import MistralAsyncClient
    from ..client import MistralClient
    from ._observe import Instrumentation
    from ._steps import RunState
    from .usage import UsageLimits

__all__ = ["Caller", "caller", "calling", "depth", "nested"]


@dataclass(frozen=True)
class Caller:
    """The run whose tool is running."""

    client: MistralClient | MistralAsyncClient
    instrumentation: Instrumentation | None
    #: What is left of the caller's usage limits when its tool step started (None: no limits).
    budget: UsageLimits | None


_caller: ContextVar[Caller | None] = ContextVar("mistral_agents_caller", default=None)
_depth: ContextVar[int] = ContextVar("mistral_agents_agent_depth", default=0)


@contextmanager
def calling(client: Any, instrumentation: Any, state: RunState) -> Iterator[None]:
    """The run of ``state`` is the caller while the block (its tool step) runs."""
    limits = state.limits
    budget = None if limits is None else limits.remaining(state.usage)
    token = _caller.set(Caller(client, instrumentation or None, budget))
    try:
        yield
    finally:
        _caller.reset(token)


def caller() -> Caller | None:
    """The run whose tool is running here, if any."""
    return _caller.get()


def depth() -> int:
    """How many agents called as tools enclose this code (0 in a run started by the application)."""
    return _depth.get()


@contextmanager
def nested() -> Iterator[int]:
    """One level deeper while the block (an agent called as a tool) runs; yields the new depth."""
    token = _depth.set(_depth.get() + 1)
    try:
        yield _depth.get()
    finally:
        _depth.reset(token)
