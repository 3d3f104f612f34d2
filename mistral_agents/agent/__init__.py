"""The agent: a model, tools, and the loop that runs them until a final answer."""

from .agent import Agent
from .errors import AgentError, MaxStepsExceeded, ModelError, OutputValidationError, ToolError
from .events import AgentEvent, FinalResult, TextDelta, ToolCallEvent, ToolResultEvent
from .hooks import AgentHooks
from .result import RunResult, ToolCallRecord

__all__ = [
    "Agent",
    "AgentError",
    "AgentEvent",
    "AgentHooks",
    "FinalResult",
    "MaxStepsExceeded",
    "ModelError",
    "OutputValidationError",
    "RunResult",
    "TextDelta",
    "ToolCallEvent",
    "ToolCallRecord",
    "ToolError",
    "ToolResultEvent",
]
