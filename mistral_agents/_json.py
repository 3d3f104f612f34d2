"""Messages as JSON, losslessly: what is read back equals what was written (unknown fields kept)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from .models.chat_completion import ChatMessage

__all__ = ["message_from_data", "message_to_data", "messages_from_json", "messages_to_json"]


def message_to_data(message: ChatMessage | Mapping[str, Any]) -> dict[str, Any]:
    """One message as plain JSON data: the fields that were set (``None`` included when set), extras kept."""
    if isinstance(message, ChatMessage):
        return message.model_dump(mode="json", exclude_unset=True)
    if isinstance(message, Mapping):
        return message_to_data(ChatMessage.model_validate(message))
    raise TypeError(f"a message must be a ChatMessage or a dict, not {type(message).__name__}")


def message_from_data(data: Any) -> ChatMessage:
    """The inverse of ``message_to_data``; anything that is not a message is a ``ValueError``."""
    if not isinstance(data, dict):
        raise ValueError(f"a stored message must be a JSON object, not {type(data).__name__}")
    return ChatMessage.model_validate(data)  # pydantic's ValidationError is a ValueError


def messages_to_json(messages: Iterable[ChatMessage | Mapping[str, Any]]) -> str:
    """The messages as a JSON array; ``messages_from_json`` gives back equal ``ChatMessage`` objects."""
    return json.dumps([message_to_data(m) for m in messages], ensure_ascii=False, separators=(",", ":"))


def messages_from_json(text: str | bytes) -> list[ChatMessage]:
    """Messages from a JSON array written by ``messages_to_json`` (or any list of wire-form messages)."""
    data = json.loads(text)
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON array of messages, not {type(data).__name__}")
    return [message_from_data(item) for item in data]
