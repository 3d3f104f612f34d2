"""The agent: a model, tools, and the loop that runs them until a final answer."""

from ._window import HistoryWindow
from .agent import Agent
from .approvals import DEFER, PendingCall, pending_calls
from .errors import AgentError, MaxStepsExceeded, ModelError, OutputValidationError, ToolError, UsageLimitExceeded
from .events import AgentEvent, FinalResult, NestedEvent, TextDelta, ToolCallEvent, ToolResultEvent
from .hooks import AgentHooks
from .result import RunResult, ToolCallRecord
from .usage import RunUsage, UsageLimits

__all__ = [
    "DEFER",
    "Agent",
    "AgentError",
    "AgentEvent",
    "AgentHooks",
    "FinalResult",
    "HistoryWindow",
    "MaxStepsExceeded",
    "ModelError",
    "NestedEvent",
    "OutputValidationError",
    "PendingCall",
    "RunResult",
    "RunUsage",
    "TextDelta",
    "ToolCallEvent",
    "ToolCallRecord",
    "ToolError",
    "ToolResultEvent",
    "UsageLimitExceeded",
    "UsageLimits",
    "pending_calls",
]
