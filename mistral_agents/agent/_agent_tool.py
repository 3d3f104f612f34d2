"""``agent.as_tool()``: an agent another agent calls like a tool, in the flavour of the run calling it.

The tool has both flavours (``Tool.async_function``): a sync run calls ``agent.run``, an async run awaits
``agent.arun``. The inner run's ``RunResult`` is the call's ``result`` (the model gets its output); the calling
loop adds its usage to its own (``_steps``) and shows its tool calls as ``NestedEvent``s. What the inner run
knows of its caller (client, instrumentation, budget) comes through ``_nesting``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..models.common import UsageInfo
from ..tools import Tool
from . import _nesting
from .errors import AgentError
from .result import RunResult

if TYPE_CHECKING:
    from .agent import Agent

__all__ = ["AgentTool", "agent_tool"]

_NOT_A_NAME = re.compile(r"[^a-zA-Z0-9_-]+")


class AgentTool(Tool[..., Any]):
    """A tool that runs an agent; its result is the inner run's ``RunResult``, the model gets its output."""

    agent: Agent[Any]
    max_depth: int

    def model_usage(self, result: Any, error: BaseException | None) -> UsageInfo | None:
        if isinstance(result, RunResult):
            return result.usage
        return error.usage if isinstance(error, AgentError) else None

    @staticmethod
    def serialize_result(value: Any) -> str:
        output = value.output if isinstance(value, RunResult) else value
        return Tool.serialize_result(output)


def agent_tool(agent: Agent[Any], name: str | None, description: str | None, max_depth: int) -> AgentTool:
    """The tool ``agent.as_tool(name, description, max_depth=...)`` returns."""
    if isinstance(max_depth, bool) or not isinstance(max_depth, int) or max_depth < 1:
        raise ValueError("max_depth must be a positive int")
    if name is None:
        if not agent.name:
            raise ValueError("as_tool needs a name: agent.as_tool(name=...) or Agent(..., name=...)")
        name = _NOT_A_NAME.sub("_", agent.name).strip("_")[:64] or "agent"
    tool_name = name

    def check_depth() -> None:
        if _nesting.depth() >= max_depth:
            raise AgentError(
                f"agent tool {tool_name!r} was not run: agents calling agents are already {_nesting.depth()} "
                f"deep (max_depth={max_depth}). Answer with what you have."
            )

    def budget() -> Any:
        caller = _nesting.caller()
        return None if caller is None else caller.budget

    def finished(result: RunResult[Any]) -> RunResult[Any]:
        if result.paused:
            waiting = ", ".join(p.name for p in result.pending)
            raise AgentError(
                f"agent tool {tool_name!r} stopped to wait for approval of {waiting}: an agent called as a tool "
                "must decide its approvals itself (give it an approver)"
            )
        return result

    def run_agent(input: str) -> RunResult[Any]:
        check_depth()
        with _nesting.nested():
            return finished(agent.run(input, usage_limits=budget()))

    async def arun_agent(input: str) -> RunResult[Any]:
        check_depth()
        with _nesting.nested():
            return finished(await agent.arun(input, usage_limits=budget()))

    run_agent.__doc__ = (
        f"Ask the {tool_name} agent.\n\nArgs:\n    input: The whole request for the agent, in your own words "
        "(it does not see this conversation)."
    )
    tool = AgentTool(
        run_agent,
        name=tool_name,
        description=description
        or f"Ask the {tool_name} agent: give it the whole request as input; it answers in text.",
        async_function=arun_agent,
    )
    tool.agent, tool.max_depth = agent, max_depth
    return tool
