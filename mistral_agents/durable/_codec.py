"""What a durable run stores, as plain JSON data: model responses, tool outcomes, approvals, run inputs.

DBOS keeps each step's output and each workflow's inputs and output in its system database. Everything that goes
there passes through this module (or the core's JSON forms it reuses: ``RunResult.to_json``, the messages'
``message_to_data``), so it is JSON — never a pickled object — and reads back the same in another process or
after a code upgrade.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._json import message_from_data, message_to_data
from ..agent.approvals import DEFER, Verdict
from ..agent.result import outcome_from_data, outcome_to_data
from ..models.chat_completion import ChatCompletionResponse, ChatMessage
from ..tools import PreparedCall, ToolOutcome

__all__ = [
    "is_json",
    "messages_from_data",
    "messages_to_data",
    "outcome_from_step",
    "outcome_to_data",
    "response_from_data",
    "response_to_data",
    "verdicts_from_data",
    "verdicts_to_data",
]


def is_json(value: Any) -> bool:
    """True when ``value`` is JSON data as it is (no conversion needed): it survives a round trip unchanged."""
    try:
        return bool(json.loads(json.dumps(value, allow_nan=False)) == value)
    except (TypeError, ValueError):
        return False


def messages_to_data(messages: Sequence[ChatMessage | Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [message_to_data(m) for m in messages]


def messages_from_data(data: Sequence[Any]) -> list[ChatMessage]:
    return [message_from_data(item) for item in data]


def response_to_data(response: ChatCompletionResponse) -> dict[str, Any]:
    """The response as it came over the wire (only the fields the server set)."""
    return response.model_dump(mode="json", exclude_unset=True)


def response_from_data(data: Mapping[str, Any]) -> ChatCompletionResponse:
    return ChatCompletionResponse.model_validate(data)


def outcome_from_step(data: Mapping[str, Any], call: PreparedCall) -> ToolOutcome:
    """A tool step's stored outcome, with ``args`` the validated values of the ``call`` it answers (as live)."""
    return dataclasses.replace(outcome_from_data(data), args=call.args)


def verdicts_to_data(verdicts: Sequence[Verdict]) -> list[Any]:
    """Approvals: ``true`` (run it), a reason or ``null`` (denied), ``{"defer": true}`` (pause)."""
    return [{"defer": True} if v is DEFER else v for v in verdicts]


def verdicts_from_data(data: Sequence[Any]) -> list[Verdict]:
    return [DEFER if isinstance(v, dict) else v for v in data]
