"""Pydantic wire models for the Mistral API (seed-era import paths kept)."""

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
