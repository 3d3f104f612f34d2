"""What a durable run stores, as plain JSON data: model responses, tool outcomes, run inputs and the result.

DBOS keeps each step's output and each workflow's inputs and output in its system database. Everything that goes
there passes through this module, so it is JSON (dicts, lists, strings, numbers) — never a pickled object — and
reads back the same in another process or after a code upgrade.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

from ..agent.result import RunResult
from ..models.chat_completion import ChatCompletionResponse, ChatMessage
from ..models.common import UsageInfo
from ..tools import PreparedCall, ToolOutcome

__all__ = [
    "is_json",
    "message_from_data",
    "messages_from_data",
    "messages_to_data",
    "outcome_from_data",
    "outcome_to_data",
    "response_from_data",
    "response_to_data",
    "result_from_data",
    "result_to_data",
]


def is_json(value: Any) -> bool:
    """True when ``value`` is JSON data as it is (no conversion needed): it survives a round trip unchanged."""
    try:
        return bool(json.loads(json.dumps(value, allow_nan=False)) == value)
    except (TypeError, ValueError):
        return False


def _jsonable(value: Any) -> Any:
    """The JSON form of a tool's result or arguments (a pydantic model as a dict, a date as text, ...)."""
    try:
        return to_jsonable_python(value)
    except Exception:  # an object with no JSON form: its text
        return repr(value)


# --------------------------------------------------------------------------------------------------- messages
def messages_to_data(messages: Sequence[ChatMessage]) -> list[dict[str, Any]]:
    return [m.model_dump(mode="json", exclude_unset=True) for m in messages]


def message_from_data(data: Mapping[str, Any]) -> ChatMessage:
    return ChatMessage.model_validate(data)


def messages_from_data(data: Sequence[Mapping[str, Any]]) -> list[ChatMessage]:
    return [ChatMessage.model_validate(item) for item in data]


# --------------------------------------------------------------------------------------------------- responses
def response_to_data(response: ChatCompletionResponse) -> dict[str, Any]:
    """The response as it came over the wire (only the fields the server set)."""
    return response.model_dump(mode="json", exclude_unset=True)


def response_from_data(data: Mapping[str, Any]) -> ChatCompletionResponse:
    return ChatCompletionResponse.model_validate(data)


# --------------------------------------------------------------------------------------------------- tools
def outcome_to_data(outcome: ToolOutcome) -> dict[str, Any]:
    """A finished tool call; the exception object (if any) is not kept, its text is (``error``)."""
    return {
        "tool_call_id": outcome.tool_call_id,
        "name": outcome.name,
        "arguments": outcome.arguments,
        "args": None if outcome.args is None else _jsonable(outcome.args),
        "result": _jsonable(outcome.result),
        "content": outcome.content,
        "error": outcome.error,
        "error_kind": outcome.error_kind,
        "duration": outcome.duration,
        "still_running": outcome.still_running,
    }


def outcome_from_data(data: Mapping[str, Any], call: PreparedCall | None = None) -> ToolOutcome:
    """Rebuild an outcome; with the ``call`` it answers, ``args`` are the validated Python values again."""
    args = call.args if call is not None else data.get("args")
    return ToolOutcome(
        data["tool_call_id"], data["name"], data["arguments"], args, data.get("result"), data["content"],
        data.get("error"), data.get("error_kind"), None, float(data.get("duration") or 0.0),
        bool(data.get("still_running")),
    )  # fmt: skip


# --------------------------------------------------------------------------------------------------- results
def result_to_data(result: RunResult[Any]) -> dict[str, Any]:
    output = result.output
    return {
        "output": output.model_dump(mode="json") if isinstance(output, BaseModel) else output,
        "messages": messages_to_data(result.messages),
        "usage": result.usage.model_dump(mode="json"),
        "steps": result.steps,
        "tool_calls": [outcome_to_data(o) for o in result.tool_calls],
        "finish_reason": result.finish_reason,
        "new_message_index": result.new_message_index,
    }


def result_from_data(data: Mapping[str, Any], output_type: type[BaseModel] | None = None) -> RunResult[Any]:
    output = data["output"]
    if output_type is not None and output is not None:
        output = output_type.model_validate(output)
    return RunResult(
        output=output,
        messages=messages_from_data(data["messages"]),
        usage=UsageInfo.model_validate(data["usage"]),
        steps=int(data["steps"]),
        tool_calls=[outcome_from_data(item) for item in data["tool_calls"]],
        finish_reason=data.get("finish_reason"),
        new_message_index=int(data.get("new_message_index") or 0),
    )
