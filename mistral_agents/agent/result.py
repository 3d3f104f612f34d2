"""The result of a run."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from .._json import message_from_data, message_to_data
from ..models.chat_completion import ChatMessage
from ..tools import ToolOutcome
from .approvals import PendingCall
from .usage import RunUsage

__all__ = ["RunResult", "ToolCallRecord"]

OutputT = TypeVar("OutputT")

#: One tool call made during a run: name, arguments, result or error, duration.
ToolCallRecord = ToolOutcome


@dataclass
class RunResult(Generic[OutputT]):
    """What a run produced.

    ``output`` is the final answer (text, or an ``output_type`` instance); ``messages`` the whole transcript,
    ready to pass back as ``history=``; ``usage`` the tokens summed over every model call (a
    [`RunUsage`][mistral_agents.agent.RunUsage], which also counts requests and tool calls; agents called as
    tools included); ``steps`` the number of model calls; ``tool_calls`` every call that ran, in order, with its
    result or error; ``models_used`` the model that answered each model call. A run that stopped for approvals
    has ``paused`` True, ``output`` None and the waiting calls in ``pending``.
    """

    output: OutputT
    messages: list[ChatMessage]
    usage: RunUsage
    steps: int
    tool_calls: list[ToolOutcome] = field(default_factory=list)
    finish_reason: str | None = None
    new_message_index: int = 0
    #: The calls waiting for a decision (``approvals=`` on the next run); empty unless ``paused``.
    pending: list[PendingCall] = field(default_factory=list)
    #: The model that answered each model call, in order (the response's ``model``): with ``fallback_models``,
    #: which of them answered.
    models_used: list[str] = field(default_factory=list)
    #: The ``name`` of the agent that gave the final answer (after handoffs, not the one the run started with).
    agent_name: str | None = None
    #: The agents handed to during the run, in order (their names).
    handoffs: list[str] = field(default_factory=list)

    @property
    def paused(self) -> bool:
        """True when the run stopped because tool calls wait for approval (see ``pending``)."""
        return bool(self.pending)

    @property
    def new_messages(self) -> list[ChatMessage]:
        """The messages this run added (the prompt, the model's turns and the tool results)."""
        return self.messages[self.new_message_index :]

    @property
    def truncated(self) -> bool:
        """True when the final answer was cut off by a token limit."""
        return self.finish_reason in ("length", "model_length")

    # ------------------------------------------------------------------------------------------ JSON
    def to_json(self) -> str:
        """The result as JSON: [`from_json`][mistral_agents.agent.RunResult.from_json] gives back an equal result.

        Messages and usage are kept exactly; each tool call keeps its id, name, arguments, content, error and
        timing, its ``result`` and ``args`` as JSON data; a tool's exception object is not kept (its text is, in
        ``error``).
        """
        output = self.output.model_dump(mode="json") if isinstance(self.output, BaseModel) else self.output
        data = {
            "output": to_jsonable_python(output, fallback=str),
            "messages": [message_to_data(m) for m in self.messages],
            "usage": self.usage.model_dump(mode="json", exclude_unset=True),
            "steps": self.steps,
            "tool_calls": [outcome_to_data(o) for o in self.tool_calls],
            "finish_reason": self.finish_reason,
            "new_message_index": self.new_message_index,
            "pending": [p.to_data() for p in self.pending],
            "models_used": list(self.models_used),
            "agent_name": self.agent_name,
            "handoffs": list(self.handoffs),
        }
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes, output_type: type[Any] | None = None) -> RunResult[Any]:
        """A result written by [`to_json`][mistral_agents.agent.RunResult.to_json]; ``output_type`` (a pydantic
        model) rebuilds a structured output."""
        data = json.loads(text)
        if not isinstance(data, dict) or "messages" not in data:
            raise ValueError("not a RunResult written by RunResult.to_json()")
        output = data.get("output")
        if output_type is not None and output is not None:
            output = output_type.model_validate(output)
        result: RunResult[Any] = RunResult(
            output=output,
            messages=[message_from_data(m) for m in data["messages"]],
            usage=RunUsage.model_validate(data.get("usage") or {}),
            steps=int(data.get("steps", 0)),
            tool_calls=[outcome_from_data(o) for o in data.get("tool_calls", ())],
            finish_reason=data.get("finish_reason"),
            new_message_index=int(data.get("new_message_index", 0)),
            pending=[PendingCall(**p) for p in data.get("pending", ())],
            models_used=[str(m) for m in data.get("models_used", ())],
            agent_name=data.get("agent_name"),
            handoffs=[str(h) for h in data.get("handoffs", ())],
        )
        return result


def outcome_to_data(outcome: ToolOutcome) -> dict[str, Any]:
    """One tool call as JSON data (also what a durable run stores for a tool step)."""
    return {
        "tool_call_id": outcome.tool_call_id,
        "name": outcome.name,
        "arguments": outcome.arguments,
        "args": to_jsonable_python(outcome.args, fallback=str),
        "result": to_jsonable_python(outcome.result, fallback=str),
        "content": outcome.content,
        "error": outcome.error,
        "error_kind": outcome.error_kind,
        "duration": outcome.duration,
        "still_running": outcome.still_running,
        "usage": None if outcome.usage is None else outcome.usage.model_dump(mode="json"),
    }


def outcome_from_data(data: Mapping[str, Any]) -> ToolOutcome:
    """The inverse of ``outcome_to_data`` (the exception object is not kept; its text is, in ``error``)."""
    return ToolOutcome(
        data["tool_call_id"], data["name"], data["arguments"], data.get("args"), data.get("result"),
        data["content"], data.get("error"), data.get("error_kind"), None, float(data.get("duration", 0.0)),
        bool(data.get("still_running", False)),
        None if data.get("usage") is None else RunUsage.model_validate(data["usage"]),
    )  # fmt: skip
