"""mistral-agents: small, typed, fast function-calling agents on the Mistral API.

``import mistral_agents`` is cheap: each public name is imported from its module on first use.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:
    from ._json import messages_from_json, messages_to_json
    from ._retry import RetryPolicy
    from .agent import (
        DEFER,
        Agent,
        AgentError,
        AgentEvent,
        AgentHooks,
        FinalResult,
        HistoryWindow,
        MaxStepsExceeded,
        ModelError,
        NestedEvent,
        OutputValidationError,
        PendingCall,
        RunResult,
        RunUsage,
        TextDelta,
        ToolCallEvent,
        ToolCallRecord,
        ToolError,
        ToolResultEvent,
        UsageLimitExceeded,
        UsageLimits,
        pending_calls,
    )
    from .async_client import MistralAsyncClient
    from .client import MistralClient
    from .exceptions import (
        AuthenticationError,
        BadRequestError,
        MistralAPIException,
        MistralAPIStatusException,
        MistralConnectionException,
        MistralException,
        MistralTimeoutException,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        RequestTimeoutError,
        ResponseDecodeError,
        ServerError,
    )
    from .models import (
        ChatCompletionResponse,
        ChatCompletionResponseChoice,
        ChatCompletionResponseStreamChoice,
        ChatCompletionStreamResponse,
        ChatMessage,
        DeltaMessage,
        EmbeddingObject,
        EmbeddingResponse,
        FinishReason,
        Function,
        FunctionCall,
        ModelCard,
        ModelList,
        ModelPermission,
        ResponseFormat,
        ResponseFormats,
        ToolCall,
        ToolChoice,
        ToolType,
        UsageInfo,
    )
    from .streaming import StreamAccumulator, amerge_stream, merge_stream
    from .tools import RunContext, Tool, ToolArgumentError, ToolOutcome, ToolRegistry, ToolSchemaWarning, tool

_EXPORTS: dict[str, str] = {
    # clients
    "MistralClient": ".client",
    "MistralAsyncClient": ".async_client",
    "RetryPolicy": "._retry",
    # streaming helpers
    "StreamAccumulator": ".streaming",
    "merge_stream": ".streaming",
    "amerge_stream": ".streaming",
    # tools
    "tool": ".tools",
    "Tool": ".tools",
    "ToolRegistry": ".tools",
    "ToolOutcome": ".tools",
    "ToolArgumentError": ".tools",
    "ToolSchemaWarning": ".tools",
    "RunContext": ".tools",
    # agent
    "Agent": ".agent",
    "AgentError": ".agent",
    "FinalResult": ".agent",
    "MaxStepsExceeded": ".agent",
    "ModelError": ".agent",
    "NestedEvent": ".agent",
    "OutputValidationError": ".agent",
    "AgentEvent": ".agent",
    "AgentHooks": ".agent",
    "RunResult": ".agent",
    "TextDelta": ".agent",
    "ToolCallEvent": ".agent",
    "ToolCallRecord": ".agent",
    "ToolError": ".agent",
    "ToolResultEvent": ".agent",
    "DEFER": ".agent",
    "PendingCall": ".agent",
    "HistoryWindow": ".agent",
    "pending_calls": ".agent",
    "UsageLimits": ".agent",
    "UsageLimitExceeded": ".agent",
    "RunUsage": ".agent",
    # conversations as JSON
    "messages_to_json": "._json",
    "messages_from_json": "._json",
}
_EXPORTS.update(
    dict.fromkeys(
        [
            "AuthenticationError", "BadRequestError", "MistralAPIException", "MistralAPIStatusException",
            "MistralConnectionException", "MistralException", "MistralTimeoutException", "NotFoundError",
            "PermissionDeniedError", "RateLimitError", "RequestTimeoutError", "ResponseDecodeError", "ServerError",
        ],
        ".exceptions",
    )
)  # fmt: skip
_EXPORTS.update(
    dict.fromkeys(
        [
            "ChatCompletionResponse", "ChatCompletionResponseChoice", "ChatCompletionResponseStreamChoice",
            "ChatCompletionStreamResponse", "ChatMessage", "DeltaMessage", "EmbeddingObject", "EmbeddingResponse",
            "FinishReason", "Function", "FunctionCall", "ModelCard", "ModelList", "ModelPermission",
            "ResponseFormat", "ResponseFormats", "ToolCall", "ToolChoice", "ToolType", "UsageInfo",
        ],
        ".models",
    )
)  # fmt: skip

# A literal list, so that type checkers see the re-exports (`mypy --strict` users import from here).
__all__ = [
    "DEFER",
    "Agent",
    "AgentError",
    "AgentEvent",
    "AgentHooks",
    "AuthenticationError",
    "BadRequestError",
    "ChatCompletionResponse",
    "ChatCompletionResponseChoice",
    "ChatCompletionResponseStreamChoice",
    "ChatCompletionStreamResponse",
    "ChatMessage",
    "DeltaMessage",
    "EmbeddingObject",
    "EmbeddingResponse",
    "FinalResult",
    "FinishReason",
    "Function",
    "FunctionCall",
    "HistoryWindow",
    "MaxStepsExceeded",
    "MistralAPIException",
    "MistralAPIStatusException",
    "MistralAsyncClient",
    "MistralClient",
    "MistralConnectionException",
    "MistralException",
    "MistralTimeoutException",
    "ModelCard",
    "ModelError",
    "ModelList",
    "ModelPermission",
    "NestedEvent",
    "NotFoundError",
    "OutputValidationError",
    "PendingCall",
    "PermissionDeniedError",
    "RateLimitError",
    "RequestTimeoutError",
    "ResponseDecodeError",
    "ResponseFormat",
    "ResponseFormats",
    "RetryPolicy",
    "RunContext",
    "RunResult",
    "RunUsage",
    "ServerError",
    "StreamAccumulator",
    "TextDelta",
    "Tool",
    "ToolArgumentError",
    "ToolCall",
    "ToolCallEvent",
    "ToolCallRecord",
    "ToolChoice",
    "ToolError",
    "ToolOutcome",
    "ToolRegistry",
    "ToolResultEvent",
    "ToolSchemaWarning",
    "ToolType",
    "UsageInfo",
    "UsageLimitExceeded",
    "UsageLimits",
    "__version__",
    "amerge_stream",
    "merge_stream",
    "messages_from_json",
    "messages_to_json",
    "pending_calls",
    "tool",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mistral_agents' has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
