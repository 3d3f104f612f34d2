"""The run context injected into tools that ask for it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ..models.chat_completion import ChatMessage
from ..models.common import UsageInfo

__all__ = ["RunContext"]

DepsT = TypeVar("DepsT")


@dataclass
class RunContext(Generic[DepsT]):
    """What a tool can know about the run calling it.

    Annotate a parameter ``RunContext`` (or ``RunContext[MyDeps]``) and it is left out of the tool's schema
    and filled in at call time. ``tool_call_id`` and ``tool_name`` identify the call being made.
    """

    deps: DepsT
    usage: UsageInfo = field(default_factory=UsageInfo)
    messages: list[ChatMessage] = field(default_factory=list)
    step: int = 0
    tool_call_id: str | None = None
    tool_name: str | None = None
