"""Chat completion wire models, at the seed-era import path ``mistral_agents.models.chat_completion``."""

from __future__ import annotations

import json
import re
from enum import Enum
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from ._base import WireModel
from .common import UsageInfo

__all__ = [
    "ChatCompletionResponse",
    "ChatCompletionResponseChoice",
    "ChatCompletionResponseStreamChoice",
    "ChatCompletionStreamResponse",
    "ChatMessage",
    "DeltaMessage",
    "FinishReason",
    "Function",
    "FunctionCall",
    "ResponseFormat",
    "ResponseFormats",
    "ToolCall",
    "ToolChoice",
    "ToolType",
    "UsageInfo",
]


class ToolType(str, Enum):
    function = "function"


class ToolChoice(str, Enum):
    auto = "auto"
    any = "any"
    none = "none"
    required = "required"


class ResponseFormats(str, Enum):
    text = "text"
    json_object = "json_object"
    json_schema = "json_schema"


class FinishReason(str, Enum):
    """The finish reasons Mistral documents; any other string a server sends is kept as a plain ``str``."""

    stop = "stop"
    length = "length"
    model_length = "model_length"
    error = "error"
    tool_calls = "tool_calls"
    eos_token = "eos_token"


def _finish_reason(value: object) -> object:
    if isinstance(value, str) and not isinstance(value, FinishReason):
        try:
            return FinishReason(value)
        except ValueError:
            return value
    return value


OpenFinishReason = Annotated[FinishReason | str | None, BeforeValidator(_finish_reason)]


class Function(WireModel):
    """A function definition inside a tool spec (seed-era model)."""

    name: str
    description: str = ""
    parameters: dict[str, Any] = Field(default_factory=dict)


class FunctionCall(WireModel):
    """The function a model asked to call; ``arguments`` is always a JSON string."""

    name: str = ""
    arguments: str = ""

    @field_validator("arguments", mode="before")
    @classmethod
    def _arguments_as_json_text(cls, value: object) -> object:
        # Some servers send the arguments as an object; the wire type is a JSON string.
        if value is None:
            return ""
        if isinstance(value, dict | list):
            return json.dumps(value, ensure_ascii=False)
        return value


class ToolCall(WireModel):
    """One tool call in an assistant message (or a fragment of one in a stream delta)."""

    id: str = "null"
    type: ToolType | str = ToolType.function
    function: FunctionCall = Field(default_factory=FunctionCall)
    index: int | None = None


class ResponseFormat(WireModel):
    type: ResponseFormats | str = ResponseFormats.text
    json_schema: dict[str, Any] | None = None


class ChatMessage(WireModel):
    """A message of the conversation, in any role (``system``, ``user``, ``assistant``, ``tool``)."""

    role: str
    content: str | list[Any] | None = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    tool_call_id: str | None = None
    prefix: bool | None = None


class DeltaMessage(WireModel):
    role: str | None = None
    content: str | list[Any] | None = None
    tool_calls: list[ToolCall] | None = None


class ChatCompletionResponseStreamChoice(WireModel):
    index: int = 0
    delta: DeltaMessage = Field(default_factory=DeltaMessage)
    finish_reason: OpenFinishReason = None


class ChatCompletionStreamResponse(WireModel):
    id: str = ""
    model: str = ""
    choices: list[ChatCompletionResponseStreamChoice] = Field(default_factory=list)
    created: int | None = None
    object: str | None = None
    usage: UsageInfo | None = None


class ChatCompletionResponseChoice(WireModel):
    index: int = 0
    message: ChatMessage
    finish_reason: OpenFinishReason = None


class ChatCompletionResponse(WireModel):
    id: str = ""
    object: str = "chat.completion"
    created: int = 0
    model: str = ""
    choices: list[ChatCompletionResponseChoice] = Field(default_factory=list)
    usage: UsageInfo = Field(default_factory=UsageInfo)


# --- the API's rules on names and ids, and the text of a content value: one definition each -------------------

#: Function (tool) names, in tool specs, tool calls and tool messages.
TOOL_NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
#: Tool-call ids the hosted API accepts (in assistant ``tool_calls`` and ``tool`` messages).
TOOL_CALL_ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{9}$")


def content_text(content: Any, separator: str = "") -> str:
    """The text of a message ``content``: a string as is; of a list of pieces (e.g. thinking + text), the ``text``
    pieces joined by ``separator``; anything else (None) is empty."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return separator.join(
            str(piece.get("text", "")) for piece in content if isinstance(piece, dict) and piece.get("type") == "text"
        )
    return ""
