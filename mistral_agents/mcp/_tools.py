"""An MCP server's tools as [`Tool`][mistral_agents.tools.Tool] objects: names, schemas, validation, results.

What the model reads back from a call (``CallToolResult``):

- text blocks, joined by newlines (text is preferred over ``structuredContent``, which servers usually send as
  the same data twice);
- otherwise ``structuredContent`` as compact JSON;
- an embedded text resource as its text; images, audio, binary resources and resource links as a short
  placeholder the model can read, e.g. ``[image: image/png, 10.4 kB, not shown]``.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import mcp.types as mcp_types
import pydantic_core
from jsonschema import Draft202012Validator, SchemaError  # type: ignore[import-untyped,unused-ignore]

from ..tools import Tool, ToolArgumentError

__all__ = ["MCPTimeoutError", "MCPTool", "MCPToolError", "clean_name", "result_text"]

_INVALID = re.compile(r"[^a-zA-Z0-9_-]")
_MAX = 64

#: Calls the server's tool by its own name with decoded arguments; returns the ``CallToolResult``.
Caller = Callable[[str, dict[str, Any]], Awaitable[mcp_types.CallToolResult]]


class MCPToolError(Exception):
    """An MCP tool reported an error (``isError``), or its server could not be reached; the model sees it."""


class MCPTimeoutError(asyncio.TimeoutError):
    """The MCP server did not answer a call within the server's ``timeout`` (a ``timeout`` error for the agent)."""


def clean_name(name: str, prefix: str | None = None) -> str:
    """The name the model sees: ``{prefix}_{name}``, made to fit ``^[a-zA-Z0-9_-]{1,64}$`` deterministically.

    Invalid characters become ``_``; a name still too long keeps its head and ends with a short hash of the
    full name, so two long names that share a head stay distinct.
    """
    full = f"{prefix}_{name}" if prefix else name
    cleaned = _INVALID.sub("_", full) or "tool"
    if len(cleaned) <= _MAX:
        return cleaned
    return f"{cleaned[: _MAX - 9]}_{hashlib.sha256(full.encode()).hexdigest()[:8]}"


def clean_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The input schema as the Mistral API accepts it: an object schema, without a ``$schema`` draft marker."""
    cleaned = {key: value for key, value in schema.items() if key != "$schema"}
    if cleaned.get("type") != "object":
        cleaned["type"] = "object"
    cleaned.setdefault("properties", {})
    return cleaned


class MCPTool(Tool[..., Any]):
    """One tool of an MCP server. Calling it sends ``tools/call`` to the server; it is always asynchronous.

    ``remote_name`` is the server's own name for it; ``name`` the (prefixed, cleaned) one the model sees.
    Arguments are checked against the server's input schema before they are sent, so the model gets a
    field-by-field error it can act on.
    """

    remote_name: str
    input_schema: dict[str, Any]

    def __init__(
        self,
        listed: mcp_types.Tool,
        caller: Caller,
        *,
        prefix: str | None,
        requires_approval: bool,
    ) -> None:
        # Not Tool.__init__: there is no Python function to read a signature from, only the server's listing.
        self.remote_name = listed.name
        self.name = clean_name(listed.name, prefix)
        self.description = listed.description or listed.title or listed.name
        self.input_schema = dict(listed.input_schema)
        self.parameters = clean_schema(listed.input_schema)
        self.spec = {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": self.parameters},
        }
        self.strict = False
        self.timeout = None  # the server object times its calls: waiting for a reconnect does not count
        self.requires_approval = requires_approval
        self.takes_context = False
        self.is_async = True
        self._caller = caller
        self._validator: Draft202012Validator | bool | None = False  # False: not built yet; None: no checking
        self.function = self._invoke
        self.__name__ = self.name
        self.__doc__ = self.description

    def __repr__(self) -> str:
        return f"MCPTool(name={self.name!r}, remote_name={self.remote_name!r})"

    def __call__(self, **arguments: Any) -> Any:
        return self._invoke(**arguments)

    def validate(self, arguments: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
        """Decode the model's JSON arguments and check them against the server's input schema."""
        data: Any
        if arguments is None or (isinstance(arguments, str | bytes | bytearray) and not arguments.strip()):
            data = {}
        elif isinstance(arguments, str | bytes | bytearray):
            try:
                data = pydantic_core.from_json(arguments)
            except ValueError as exc:
                raise self._argument_error([f"the arguments are not valid JSON ({exc}); send a JSON object"]) from None
        else:
            data = dict(arguments)
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise self._argument_error([f"the arguments must be a JSON object, got {type(data).__name__}"])
        validator = self._schema_validator()
        if validator is not None:
            problems = [_describe(error) for error in validator.iter_errors(data)]
            if problems:
                raise self._argument_error(problems)
        return data

    def call(self, arguments: Mapping[str, Any], ctx: Any = None) -> Awaitable[str]:
        return self._invoke(**arguments)

    async def _invoke(self, **arguments: Any) -> str:
        result = await self._caller(self.remote_name, dict(arguments))
        text = result_text(result)
        if result.is_error:
            raise MCPToolError(text or "the tool reported an error without a message")
        return text

    def _schema_validator(self) -> Draft202012Validator | None:
        if self._validator is False:
            try:
                Draft202012Validator.check_schema(self.input_schema)
                self._validator = Draft202012Validator(self.input_schema)
            except SchemaError:  # a schema we cannot read: the server validates on its own
                self._validator = None
        return self._validator if isinstance(self._validator, Draft202012Validator) else None

    def _argument_error(self, problems: list[str]) -> ToolArgumentError:
        return ToolArgumentError(
            f"invalid arguments for tool '{self.name}': {'; '.join(problems)}", tool_name=self.name, errors=problems
        )


def _describe(error: Any) -> str:
    where = ".".join(str(part) for part in error.absolute_path)
    return f"'{where}': {error.message}" if where else str(error.message)


def result_text(result: mcp_types.CallToolResult) -> str:
    """What the model reads back from a ``CallToolResult`` (see the module docstring)."""
    parts = [_block_text(block) for block in result.content]
    if any(isinstance(block, mcp_types.TextContent) for block in result.content):
        return "\n".join(parts)
    if result.structured_content is not None:
        structured = pydantic_core.to_json(result.structured_content).decode()
        return "\n".join([structured, *parts])
    return "\n".join(parts)


def _block_text(block: Any) -> str:
    if isinstance(block, mcp_types.TextContent):
        return block.text
    if isinstance(block, mcp_types.ImageContent | mcp_types.AudioContent):
        kind = "image" if isinstance(block, mcp_types.ImageContent) else "audio"
        return f"[{kind}: {block.mime_type}, {_size(block.data)}, not shown]"
    if isinstance(block, mcp_types.EmbeddedResource):
        resource = block.resource
        if isinstance(resource, mcp_types.TextResourceContents):
            return resource.text
        return f"[resource: {resource.uri} ({resource.mime_type or 'binary'}, {_size(resource.blob)}), not shown]"
    if isinstance(block, mcp_types.ResourceLink):
        return f"[resource link: {block.uri}{f' ({block.mime_type})' if block.mime_type else ''}]"
    return f"[{getattr(block, 'type', 'content')} content, not shown]"


def _size(base64_data: str) -> str:
    size = len(base64_data) * 3 // 4
    return f"{size} bytes" if size < 1000 else f"{size / 1000:.1f} kB"
