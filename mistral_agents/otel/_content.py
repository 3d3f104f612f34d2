"""Message contents in the GenAI conventions' JSON shapes (``gen_ai.input.messages`` / ``gen_ai.output.messages``).

Only used when content capture is on. Wire messages (``{"role", "content", "tool_calls", "tool_call_id"}``) become
``{"role", "parts": [...]}`` with ``text``, ``reasoning``, ``tool_call`` and ``tool_call_response`` parts; recorded on
spans as JSON strings, as the conventions allow where structured attribute values are not supported.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .._wire import message_dict
from ..models.chat_completion import ChatCompletionResponse, ChatMessage

__all__ = ["input_messages", "output_messages", "to_json"]


def to_json(value: Any) -> str:
    """Compact JSON; anything JSON cannot hold is written as its string."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def input_messages(messages: Iterable[ChatMessage | Mapping[str, Any]]) -> str:
    """``gen_ai.input.messages``: the messages sent, in order."""
    out = []
    for message in messages:
        wire = message_dict(message) if isinstance(message, ChatMessage) else message
        role = str(wire.get("role", "user"))
        if role == "tool":
            parts: list[dict[str, Any]] = [
                {"type": "tool_call_response", "id": wire.get("tool_call_id"), "response": wire.get("content")}
            ]
        else:
            parts = _content_parts(wire.get("content")) + _tool_call_parts(wire.get("tool_calls"))
        out.append({"role": role, "parts": parts})
    return to_json(out)


def output_messages(response: ChatCompletionResponse) -> str:
    """``gen_ai.output.messages``: one message per choice, with its finish reason."""
    out = []
    for choice in response.choices:
        wire = message_dict(choice.message)
        out.append(
            {
                "role": "assistant",
                "parts": _content_parts(wire.get("content")) + _tool_call_parts(wire.get("tool_calls")),
                "finish_reason": finish_reason(choice.finish_reason),
            }
        )
    return to_json(out)


def final_output(output: Any, reason: str | None) -> str:
    """``gen_ai.output.messages`` of a run: its final answer (text, or the ``output_type`` instance as JSON)."""
    content = output.model_dump_json() if hasattr(output, "model_dump_json") else str(output)
    return to_json(
        [
            {
                "role": "assistant",
                "parts": [{"type": "text", "content": content}],
                "finish_reason": reason or "stop",
            }
        ]
    )


def finish_reason(reason: Any) -> str:
    return "" if reason is None else str(getattr(reason, "value", reason))


def _content_parts(content: Any) -> list[dict[str, Any]]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [{"type": "text", "content": content}]
    parts: list[dict[str, Any]] = []
    for chunk in content if isinstance(content, list) else [content]:
        if not isinstance(chunk, Mapping):
            parts.append({"type": "text", "content": str(chunk)})
        elif chunk.get("type") == "text":
            parts.append({"type": "text", "content": chunk.get("text", "")})
        elif chunk.get("type") == "thinking":
            thinking = chunk.get("thinking")
            text = (
                "".join(str(t.get("text", "")) for t in thinking if isinstance(t, Mapping))
                if isinstance(thinking, list)
                else str(thinking or "")
            )
            parts.append({"type": "reasoning", "content": text})
        else:  # images, documents, ...: a generic part carrying the chunk as sent
            parts.append(dict(chunk))
    return parts


def _tool_call_parts(tool_calls: Any) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    for call in tool_calls or ():
        function = call.get("function", {})
        parts.append(
            {
                "type": "tool_call",
                "id": call.get("id"),
                "name": function.get("name"),
                "arguments": arguments(function.get("arguments")),
            }
        )
    return parts


def arguments(raw: Any) -> Any:
    """Tool-call arguments as an object when they are JSON (the conventions' best effort), else as sent."""
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    return raw
