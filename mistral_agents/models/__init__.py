"""Pydantic wire models for the Mistral API (seed-era import paths kept).

Each name is imported from its module on first use, so a plain chat never builds the embeddings or model-list
models.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .chat_completion import (
        ChatCompletionResponse,
        ChatCompletionResponseChoice,
        ChatCompletionResponseStreamChoice,
        ChatCompletionStreamResponse,
        ChatMessage,
        DeltaMessage,
        FinishReason,
        Function,
        FunctionCall,
        ResponseFormat,
        ResponseFormats,
        ToolCall,
        ToolChoice,
        ToolType,
    )
    from .common import UsageInfo
    from .embeddings import EmbeddingObject, EmbeddingResponse
    from .models import ModelCard, ModelList, ModelPermission

_MODULES = {
    **dict.fromkeys(
        [
            "ChatCompletionResponse", "ChatCompletionResponseChoice", "ChatCompletionResponseStreamChoice",
            "ChatCompletionStreamResponse", "ChatMessage", "DeltaMessage", "FinishReason", "Function",
            "FunctionCall", "ResponseFormat", "ResponseFormats", "ToolCall", "ToolChoice", "ToolType",
        ],
        ".chat_completion",
    ),
    "UsageInfo": ".common",
    "EmbeddingObject": ".embeddings",
    "EmbeddingResponse": ".embeddings",
    "ModelCard": ".models",
    "ModelList": ".models",
    "ModelPermission": ".models",
}  # fmt: skip

__all__ = [
    "ChatCompletionResponse",
    "ChatCompletionResponseChoice",
    "ChatCompletionResponseStreamChoice",
    "ChatCompletionStreamResponse",
    "ChatMessage",
    "DeltaMessage",
    "EmbeddingObject",
    "EmbeddingResponse",
    "FinishReason",
    "Function",
    "FunctionCall",
    "ModelCard",
    "ModelList",
    "ModelPermission",
    "ResponseFormat",
    "ResponseFormats",
    "ToolCall",
    "ToolChoice",
    "ToolType",
    "UsageInfo",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
