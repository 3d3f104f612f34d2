"""The hosted API's request rules, as pure functions over the raw JSON body.

Each ``check_*`` function returns the error the hosted API would answer with (a `RuleViolation`: status and
body in the hosted shapes) or ``None`` when the request would be accepted. Shape and type problems are 422
(pydantic-style ``detail`` lists, every problem at once); conversation rules are 400 (the first problem found), in
the order mistral-common checks them: structure (first, last, role order, call/result counts), then each message.

Error codes 3230 (message order) and 3280 (tool-call ids) were seen on the wire; for the other 400s the hosted
code is unknown and ``code`` is ``null``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["RuleViolation", "check_chat_request", "check_embeddings_request"]

NAME_PATTERN = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
MISTRAL_ID_PATTERN = re.compile(r"^[a-zA-Z0-9]{9}$")
MAX_TOOLS = 128

CHAT_FIELDS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "max_tokens",
        "stream",
        "stop",
        "random_seed",
        "response_format",
        "tools",
        "tool_choice",
        "presence_penalty",
        "frequency_penalty",
        "n",
        "parallel_tool_calls",
        "safe_prompt",
        "prediction",
        "prompt_mode",
        "metadata",
        "reasoning_effort",
    }
)
EMBEDDING_FIELDS = frozenset({"model", "input", "encoding_format", "output_dimension", "output_dtype", "metadata"})
MESSAGE_FIELDS = {
    "system": frozenset({"role", "content"}),
    "user": frozenset({"role", "content"}),
    "assistant": frozenset({"role", "content", "tool_calls", "prefix"}),
    "tool": frozenset({"role", "content", "tool_call_id", "name"}),
}
TOOL_CALL_FIELDS = frozenset({"id", "type", "function", "index"})
TOOL_CHOICES = ("auto", "none", "any", "required")
ORDER = ("invalid_request_message_order", "3230")
FUNCTION_CALL = ("invalid_function_call", "3280")
REQUEST = ("invalid_request_error", None)

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class RuleViolation:
    """An error the hosted API would return: HTTP ``status`` and JSON ``body``."""

    status: int
    body: dict[str, Any]

    @property
    def message(self) -> str:
        """A one-line summary (the 400 message, or the first 422 ``msg`` with its location)."""
        message = self.body.get("message")
        if isinstance(message, dict):
            first = message["detail"][0]
            return f"{first['msg']} ({'.'.join(str(part) for part in first['loc'])})"
        return str(message)


def message_error(message: str, kind: tuple[str, str | None] = ORDER) -> RuleViolation:
    """A 400 in the hosted envelope."""
    error_type, code = kind
    return RuleViolation(400, {"object": "error", "message": message, "type": error_type, "param": None, "code": code})


def validation_error(details: list[dict[str, Any]]) -> RuleViolation:
    """A 422 in the hosted envelope, with pydantic-style details."""
    return RuleViolation(
        422,
        {
            "object": "error",
            "message": {"detail": details},
            "type": "invalid_request_error",
            "param": None,
            "code": None,
        },
    )


def _detail(kind: str, loc: Loc, msg: str, value: Any) -> dict[str, Any]:
    return {"type": kind, "loc": ["body", *loc], "msg": msg, "input": value}


class _Details:
    """Collects 422 details while the body's shape is checked."""

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, kind: str, loc: Loc, msg: str, value: Any = None) -> None:
        self.items.append(_detail(kind, loc, msg, value))

    def extra(self, obj: dict[str, Any], allowed: frozenset[str], loc: Loc) -> None:
        for key in obj:
            if key not in allowed:
                self.add("extra_forbidden", (*loc, key), "Extra inputs are not permitted", obj[key])

    def typed(
        self, obj: dict[str, Any], key: str, check: Callable[[Any], bool], kind: str, msg: str, loc: Loc = ()
    ) -> None:
        if key in obj and obj[key] is not None and not check(obj[key]):
            self.add(kind, (*loc, key), msg, obj[key])

    def number(self, obj: dict[str, Any], key: str, low: float, high: float | None) -> None:
        value = obj.get(key)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.add("float_type", (key,), "Input should be a valid number", value)
        elif value < low:
            self.add("greater_than_equal", (key,), f"Input should be greater than or equal to {low}", value)
        elif high is not None and value > high:
            self.add("less_than_equal", (key,), f"Input should be less than or equal to {high}", value)

    def integer(self, obj: dict[str, Any], key: str, low: int) -> None:
        value = obj.get(key)
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int):
            self.add("int_type", (key,), "Input should be a valid integer", value)
        elif value < low:
            self.add("greater_than_equal", (key,), f"Input should be greater than or equal to {low}", value)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_bool(value: Any) -> bool:
    return isinstance(value, bool)


def _is_content(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(part, dict) and "type" in part for part in value)
    )


def check_chat_request(body: Any, *, openai_compatible: bool = False) -> RuleViolation | None:
    """The error the hosted API (or, relaxed, an OpenAI-compatible server) returns for this chat body, or None."""
    if not isinstance(body, dict):
        return validation_error([_detail("model_attributes_type", (), "Input should be a valid dictionary", body)])
    details = _Details()
    _check_chat_shape(body, details, openai_compatible)
    if details.items:
        return validation_error(details.items)
    messages: list[dict[str, Any]] = body["messages"]
    return (
        _check_structure(messages, openai_compatible)
        or _check_message_contents(messages, openai_compatible)
        or _check_tools(body.get("tools") or [])
    )


def check_embeddings_request(body: Any, *, openai_compatible: bool = False) -> RuleViolation | None:
    """The error the hosted API returns for this embeddings body, or None."""
    if not isinstance(body, dict):
        return validation_error([_detail("model_attributes_type", (), "Input should be a valid dictionary", body)])
    details = _Details()
    if not openai_compatible:
        details.extra(body, EMBEDDING_FIELDS, ())
    for key in ("model", "input"):
        if key not in body:
            details.add("missing", (key,), "Field required")
    details.typed(body, "model", _is_str, "string_type", "Input should be a valid string")
    value = body.get("input")
    if "input" in body and not (
        isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, str) for v in value))
    ):
        details.add("string_type", ("input",), "Input should be a valid string or a non-empty list of strings", value)
    if body.get("encoding_format") not in (None, "float", "base64"):
        details.add("enum", ("encoding_format",), "Input should be 'float' or 'base64'", body["encoding_format"])
    details.integer(body, "output_dimension", 1)
    return validation_error(details.items) if details.items else None


# --- 422: the shape of the body ---------------------------------------------------------------------------


def _check_chat_shape(body: dict[str, Any], details: _Details, openai_compatible: bool) -> None:
    if not openai_compatible:
        details.extra(body, CHAT_FIELDS, ())
    for key in ("model", "messages"):
        if key not in body:
            details.add("missing", (key,), "Field required")
    details.typed(body, "model", _is_str, "string_type", "Input should be a valid string")
    details.number(body, "temperature", 0, 2.0 if openai_compatible else 1.5)
    details.number(body, "top_p", 0, 1)
    details.number(body, "presence_penalty", -2, 2)
    details.number(body, "frequency_penalty", -2, 2)
    details.integer(body, "max_tokens", 0)
    details.integer(body, "random_seed", 0)
    details.integer(body, "n", 1)
    for key in ("stream", "safe_prompt", "parallel_tool_calls"):
        details.typed(body, key, _is_bool, "bool_type", "Input should be a valid boolean")
    stop = body.get("stop")
    if stop is not None and not (isinstance(stop, str) or (isinstance(stop, list) and all(map(_is_str, stop)))):
        details.add("string_type", ("stop",), "Input should be a valid string or list of strings", stop)
    _check_tool_choice(body, details, openai_compatible)
    _check_response_format(body, details)
    messages = body.get("messages")
    if "messages" in body and not isinstance(messages, list):
        details.add("list_type", ("messages",), "Input should be a valid list", messages)
    elif isinstance(messages, list):
        for index, message in enumerate(messages):
            _check_message_shape(message, index, details, openai_compatible)
    tools = body.get("tools")
    if tools is not None and not isinstance(tools, list):
        details.add("list_type", ("tools",), "Input should be a valid list", tools)
    elif isinstance(tools, list):
        for index, tool in enumerate(tools):
            _check_tool_shape(tool, index, details)


def _check_tool_choice(body: dict[str, Any], details: _Details, openai_compatible: bool) -> None:
    choice = body.get("tool_choice")
    if choice is None:
        return
    allowed = ("auto", "none", "required") if openai_compatible else TOOL_CHOICES
    if isinstance(choice, str):
        if choice not in allowed:
            options = ", ".join(f"'{option}'" for option in allowed)
            details.add("enum", ("tool_choice",), f"Input should be {options}", choice)
        return
    function = choice.get("function") if isinstance(choice, dict) else None
    if not (isinstance(function, dict) and isinstance(function.get("name"), str)):
        details.add(
            "model_type",
            ("tool_choice",),
            "Input should be a valid tool choice: a string or {'type': 'function', 'function': {'name': ...}}",
            choice,
        )


def _check_response_format(body: dict[str, Any], details: _Details) -> None:
    fmt = body.get("response_format")
    if fmt is None:
        return
    kind = fmt.get("type", "text") if isinstance(fmt, dict) else None
    if kind not in ("text", "json_object", "json_schema"):
        details.add("enum", ("response_format", "type"), "Input should be 'text', 'json_object' or 'json_schema'", kind)
    elif kind == "json_schema":
        schema = fmt.get("json_schema")
        if not (isinstance(schema, dict) and isinstance(schema.get("name"), str) and "schema" in schema):
            details.add(
                "missing", ("response_format", "json_schema"), "json_schema needs a 'name' and a 'schema'", schema
            )


def _check_message_shape(message: Any, index: int, details: _Details, openai_compatible: bool) -> None:
    loc: Loc = ("messages", index)
    if not isinstance(message, dict):
        details.add("model_attributes_type", loc, "Input should be a valid dictionary", message)
        return
    role = message.get("role")
    if not isinstance(role, str) or role not in MESSAGE_FIELDS:
        kind = "union_tag_not_found" if role is None else "union_tag_invalid"
        details.add(
            kind,
            loc,
            f"Input tag '{role}' found using 'role' does not match any of the expected tags: "
            "'system', 'user', 'assistant', 'tool'",
            message,
        )
        return
    if not openai_compatible:
        details.extra(message, MESSAGE_FIELDS[role], loc)
    if role in ("system", "user") and "content" not in message:
        details.add("missing", (*loc, "content"), "Field required")
    if message.get("content") is not None and not _is_content(message["content"]):
        details.add(
            "string_type", (*loc, "content"), "Input should be a valid string or list of chunks", message["content"]
        )
    details.typed(message, "prefix", _is_bool, "bool_type", "Input should be a valid boolean", loc)
    details.typed(message, "tool_call_id", _is_str, "string_type", "Input should be a valid string", loc)
    details.typed(message, "name", _is_str, "string_type", "Input should be a valid string", loc)
    calls = message.get("tool_calls") if role == "assistant" else None
    if calls is not None and not isinstance(calls, list):
        details.add("list_type", (*loc, "tool_calls"), "Input should be a valid list", calls)
    elif calls:
        for position, call in enumerate(calls):
            _check_tool_call_shape(call, (*loc, "tool_calls", position), details, openai_compatible)


def _check_tool_call_shape(call: Any, loc: Loc, details: _Details, openai_compatible: bool) -> None:
    if not isinstance(call, dict):
        details.add("model_attributes_type", loc, "Input should be a valid dictionary", call)
        return
    if not openai_compatible:
        details.extra(call, TOOL_CALL_FIELDS, loc)
    details.typed(call, "id", _is_str, "string_type", "Input should be a valid string", loc)
    if call.get("type", "function") not in ("function", None):
        details.add("enum", (*loc, "type"), "Input should be 'function'", call["type"])
    function = call.get("function")
    if not isinstance(function, dict):
        details.add("missing" if function is None else "model_type", (*loc, "function"), "Field required", function)
        return
    if not isinstance(function.get("name"), str):
        details.add("string_type", (*loc, "function", "name"), "Input should be a valid string", function.get("name"))
    arguments = function.get("arguments")
    if not isinstance(arguments, str | dict):
        details.add(
            "string_type", (*loc, "function", "arguments"), "Input should be a valid string or dictionary", arguments
        )


def _check_tool_shape(tool: Any, index: int, details: _Details) -> None:
    loc: Loc = ("tools", index)
    if not isinstance(tool, dict):
        details.add("model_attributes_type", loc, "Input should be a valid dictionary", tool)
        return
    if tool.get("type", "function") != "function":
        details.add("enum", (*loc, "type"), "Input should be 'function'", tool.get("type"))
    function = tool.get("function")
    if not isinstance(function, dict):
        details.add("missing" if function is None else "model_type", (*loc, "function"), "Field required", function)
        return
    if not isinstance(function.get("name"), str):
        details.add("missing", (*loc, "function", "name"), "Field required", function.get("name"))
    if "parameters" in function and not isinstance(function["parameters"], dict):
        details.add(
            "dict_type", (*loc, "function", "parameters"), "Input should be a valid dictionary", function["parameters"]
        )


# --- 400: the conversation ----------------------------------------------------------------------------------


def _check_structure(messages: list[dict[str, Any]], openai_compatible: bool) -> RuleViolation | None:
    if not messages:
        return message_error("Conversation must have at least one message")
    if not openai_compatible:
        problem = _check_ends(messages) or _check_role_order(messages)
        if problem:
            return problem
    return _check_call_counts(messages)


def _check_ends(messages: list[dict[str, Any]]) -> RuleViolation | None:
    if messages[0]["role"] not in ("user", "system"):
        return message_error("Conversation must start with a user message or system message")
    last = messages[-1]
    if last["role"] not in ("user", "tool") and not (last["role"] == "assistant" and last.get("prefix")):
        return message_error(
            f"Expected last role User or Tool (or Assistant with prefix True) for serving but got {last['role']}"
        )
    return None


def _check_role_order(messages: list[dict[str, Any]]) -> RuleViolation | None:
    allowed_after = {"assistant": ("user", "tool"), "tool": ("assistant", "tool")}
    for previous, current in itertools.pairwise(messages):
        allowed = allowed_after.get(previous["role"])
        if allowed is not None and current["role"] not in allowed:
            return message_error(f"Unexpected role '{current['role']}' after role '{previous['role']}'")
    return None


def _check_call_counts(messages: list[dict[str, Any]]) -> RuleViolation | None:
    """Every assistant tool call is answered by exactly one tool message, right after it, by id."""
    pending: list[str] = []
    answered: set[str] = set()
    in_block = False
    for message in messages:
        role = message["role"]
        if role == "tool":
            if not in_block:
                return message_error("Not the same number of function calls and responses")
            call_id = message.get("tool_call_id")
            if call_id is None:
                return message_error("Tool call id has to be defined.", REQUEST)
            if call_id in answered:
                return message_error(f"Tool call id {call_id} was answered more than once.", FUNCTION_CALL)
            if call_id not in pending:
                return message_error(
                    f"Tool call id {call_id} does not match any tool call of the preceding assistant message.",
                    FUNCTION_CALL,
                )
            pending.remove(call_id)
            answered.add(call_id)
            continue
        if pending:
            return message_error("Not the same number of function calls and responses")
        in_block = role == "assistant" and bool(message.get("tool_calls"))
        pending = [call.get("id", "null") for call in message.get("tool_calls") or []] if in_block else []
        answered = set()
    if pending:
        return message_error("Not the same number of function calls and responses")
    return None


def _check_message_contents(messages: list[dict[str, Any]], openai_compatible: bool) -> RuleViolation | None:
    for index, message in enumerate(messages):
        role = message["role"]
        problem = None
        if role == "system" and message.get("content") is None:
            problem = message_error("System prompt must have content", REQUEST)
        elif role == "assistant":
            problem = _check_assistant(message, index == len(messages) - 1, openai_compatible)
        elif role == "tool":
            problem = _check_name(message.get("name")) or _check_id(message.get("tool_call_id"), openai_compatible)
        if problem:
            return problem
    return None


def _check_assistant(message: dict[str, Any], is_last: bool, openai_compatible: bool) -> RuleViolation | None:
    calls = message.get("tool_calls") or []
    if not message.get("content") and not calls:
        return message_error("Assistant message must have either content or tool_calls.", REQUEST)
    if message.get("prefix") and not is_last:
        return message_error("Assistant message with prefix True must be last message", REQUEST)
    for call in calls:
        problem = _check_id(call.get("id", "null"), openai_compatible) or _check_name(call["function"]["name"])
        if problem:
            return problem
    return None


def _check_id(call_id: str | None, openai_compatible: bool) -> RuleViolation | None:
    if openai_compatible or call_id is None or MISTRAL_ID_PATTERN.match(call_id):
        return None
    return message_error(f"Tool call id was {call_id} but must be a-z, A-Z, 0-9, with a length of 9.", FUNCTION_CALL)


def _check_name(name: str | None) -> RuleViolation | None:
    if name is None or NAME_PATTERN.match(name):
        return None
    return message_error(
        f"Function name was {name} but must be a-z, A-Z, 0-9, or contain underscores and dashes,"
        " with a maximum length of 64.",
        FUNCTION_CALL,
    )


def _check_tools(tools: list[dict[str, Any]]) -> RuleViolation | None:
    if len(tools) > MAX_TOOLS:
        return message_error(f"Too many tools: {len(tools)} were given, at most {MAX_TOOLS} are allowed.", REQUEST)
    for tool in tools:
        function = tool["function"]
        problem = _check_name(function["name"])
        if problem:
            return problem
        schema_problem = _schema_problem(function.get("parameters", {}))
        if schema_problem:
            return message_error(f"Invalid tool schema: {schema_problem}", REQUEST)
    return None


JSON_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean", "null"})


def _schema_problem(schema: Any) -> str | None:
    """A Draft 7 sanity check of a parameters schema (types, properties, required); None when it looks valid."""
    if isinstance(schema, bool):
        return None
    if not isinstance(schema, dict):
        return f"{schema!r} is not of type 'object', 'boolean'"
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    for each in kinds:
        if each is not None and each not in JSON_TYPES:
            return f"{each!r} is not valid under any of the given schemas"
    properties = schema.get("properties", {})
    if not isinstance(properties, dict):
        return f"{properties!r} is not of type 'object'"
    required = schema.get("required", [])
    if not (isinstance(required, list) and all(isinstance(item, str) for item in required)):
        return f"{required!r} is not of type 'array' of strings"
    for sub in (*properties.values(), schema.get("items", True), schema.get("additionalProperties", True)):
        problem = _schema_problem(sub)
        if problem:
            return problem
    return None
