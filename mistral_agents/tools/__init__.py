"""Tools: typed Python functions the model can call (``@tool``), and a registry that runs the model's calls."""

from .context import RunContext
from .errors import ToolArgumentError, ToolDefinitionError, ToolSchemaWarning
from .registry import PreparedCall, ToolOutcome, ToolRegistry
from .source import ToolSource
from .tool import Tool, tool

__all__ = [
    "PreparedCall",
    "RunContext",
    "Tool",
    "ToolArgumentError",
    "ToolDefinitionError",
    "ToolOutcome",
    "ToolRegistry",
    "ToolSchemaWarning",
    "ToolSource",
    "tool",
]
