"""The Mistral wire protocol as plain functions: settings, request bodies, response and stream decoding.

Nothing here does I/O; `mistral_agents.client` and `mistral_agents.async_client` send what this
builds and hand back what it decodes; error bodies and transport failures are read in `_errors`.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from ._errors import error_from_response, parse_error_body, snippet
from ._retry import RetryPolicy
from ._version import __version__
from .exceptions import (
    MistralAPIException,
    MistralConnectionException,
    MistralException,
    ResponseDecodeError,
)
from .models.chat_completion import ChatCompletionStreamResponse, ChatMessage

logger = logging.getLogger("mistral_agents")

M = TypeVar("M", bound=BaseModel)

OFFICIAL_ENDPOINT = "https://api.mistral.ai"
#: The response header by which the API announces that the requested model will be removed, and when.
DEPRECATION_HEADER = "x-model-deprecation-timestamp"
_TOOL_CHOICE_KEYWORDS = frozenset({"auto", "any", "none", "required"})
_USER_AGENT = f"mistral-agents/{__version__}"


# --------------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ClientSettings:
    """Everything a client needs to build requests; shared by the sync and async flavours."""

    api_key: str | None = field(repr=False)
    endpoint: str
    max_retries: int
    timeout: float | None
    retry: RetryPolicy
    base_url: str = field(init=False)
    headers: dict[str, str] = field(init=False, repr=False)
    _urls: dict[str, httpx.URL] = field(init=False, repr=False, compare=False)
    _deprecations_logged: set[tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        headers = {"Accept": "application/json", "Content-Type": "application/json", "User-Agent": _USER_AGENT}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        object.__setattr__(self, "base_url", api_base_url(self.endpoint))
        object.__setattr__(self, "headers", headers)
        object.__setattr__(self, "_urls", {})
        object.__setattr__(self, "_deprecations_logged", set())

    @classmethod
    def create(
        cls,
        api_key: str | None,
        endpoint: str | None,
        max_retries: int,
        timeout: float | None,
        retry: RetryPolicy | None,
    ) -> ClientSettings:
        endpoint = check_endpoint((endpoint or OFFICIAL_ENDPOINT).strip())
        key = (api_key if api_key is not None else os.environ.get("MISTRAL_API_KEY", "")).strip() or None
        if key is None and is_official_endpoint(endpoint):
            raise MistralException(
                "No API key: pass api_key=... or set MISTRAL_API_KEY "
                "(a key is needed for the Mistral API; local servers need none; "
                "MISTRAL_AGENTS_OFFLINE=1 answers from the built-in offline model instead)."
            )
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        return cls(key, endpoint, max_retries, timeout, retry or RetryPolicy())

    def url(self, path: str) -> str:
        return self.base_url + path

    def request_url(self, path: str) -> httpx.URL:
        """``url(path)`` parsed once: httpx takes a parsed URL as is, sparing a parse per request."""
        parsed = self._urls.get(path)
        if parsed is None:
            parsed = self._urls[path] = httpx.URL(self.base_url + path)
        return parsed

    def note_deprecation(self, headers: httpx.Headers, body: Mapping[str, Any] | None) -> None:
        """Log a warning when the response says the model is deprecated (``x-model-deprecation-timestamp``),
        naming the model asked for and the date, as the seed-era SDK did; once per model and date per client."""
        date = headers.get(DEPRECATION_HEADER)
        if date is None:
            return
        model = str(body.get("model")) if body else "?"
        if (model, date) in self._deprecations_logged:
            return
        self._deprecations_logged.add((model, date))
        logger.warning(
            "The model %s is deprecated and will be removed on %s. Please refer to "
            "https://docs.mistral.ai/getting-started/models/#api-versioning for more information.",
            model,
            date,
        )

    def api_error(self, response: httpx.Response) -> MistralAPIException:
        """The typed exception for an error response, cleared of the API key (message, body, headers, ...)."""
        error = error_from_response(response.status_code, response.headers, response.content)
        if self.api_key and self.api_key.encode() in response.content + str(response.headers).encode():
            error.message = self.redact(error.message)
            error.args = (error.message,)
            error.body = self.redact_value(error.body)
            error.headers = {name: self.redact(value) for name, value in error.headers.items()}
            for name in ("code", "type", "request_id"):
                setattr(error, name, self.redact_value(getattr(error, name)))
        return error

    def redact_value(self, value: Any) -> Any:
        """`redact` applied to every string in parsed JSON (iteratively: bodies can nest deeply)."""
        if isinstance(value, str):
            return self.redact(value)
        if not isinstance(value, dict | list):
            return value
        root: list[Any] = [value]
        stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
        while stack:
            parent, key, item = stack.pop()
            if isinstance(item, str):
                parent[key] = self.redact(item)
            elif isinstance(item, dict):
                mapping = parent[key] = dict(item)
                stack.extend((mapping, k, v) for k, v in item.items())
            elif isinstance(item, list):
                items = parent[key] = list(item)
                stack.extend((items, i, v) for i, v in enumerate(item))
        return root[0]

    def redact(self, text: str) -> str:
        """``text`` with the API key masked, should a server ever echo it back."""
        return text.replace(self.api_key, "***") if self.api_key and self.api_key in text else text


def check_endpoint(endpoint: str) -> str:
    """``endpoint`` if it is an absolute http(s) URL; a clear `ValueError` otherwise.

    Without this, ``"localhost:8000"`` (no scheme) would be accepted and every request would fail as a
    connection error, retried for many seconds.
    """
    try:
        url = httpx.URL(endpoint)
    except Exception:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.host:
        hint = f" (did you mean 'http://{endpoint}'?)" if url is not None and "://" not in endpoint else ""
        raise ValueError(
            f"endpoint must be an http:// or https:// URL with a host, e.g. 'http://localhost:8000', "
            f"got {endpoint!r}{hint}"
        )
    return endpoint


def api_base_url(endpoint: str) -> str:
    """The URL paths hang off: the endpoint with ``/v1`` appended unless it already ends with it."""
    base = endpoint.rstrip("/")
    return base if base.endswith("/v1") else base + "/v1"


def is_official_endpoint(endpoint: str) -> bool:
    try:
        host = httpx.URL(endpoint).host
    except Exception:
        return False
    return host == "mistral.ai" or host.endswith(".mistral.ai")


# --------------------------------------------------------------------------------------------------- requests
def chat_body(
    model: str,
    messages: Sequence[ChatMessage | Mapping[str, Any]],
    *,
    stream: bool,
    tools: Sequence[Any] | None = None,
    tool_choice: Any = None,
    response_format: Any = None,
    params: Mapping[str, Any],
) -> dict[str, Any]:
    """The JSON body of a chat request, with only the fields the caller set."""
    if not isinstance(model, str) or not model:
        raise ValueError("model must be a non-empty string, e.g. 'mistral-large-latest'")
    body: dict[str, Any] = {"model": model, "messages": serialize_messages(messages)}
    if stream:
        body["stream"] = True
    if tools is not None:
        body["tools"] = serialize_tools(tools)
    if tool_choice is not None:
        body["tool_choice"] = serialize_tool_choice(tool_choice)
    if response_format is not None:
        body["response_format"] = serialize_response_format(response_format)
    for name, value in params.items():
        if value is not None:
            body[name] = _plain(value)
    return body


def encode_json(body: Mapping[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


class EncodedMessages(list[dict[str, Any]]):
    """Messages already in wire form (from `message_dict`), sent as they are.

    An agent keeps one per run and appends each new message once, instead of serialising the whole
    transcript again at every step.
    """


def serialize_messages(messages: Sequence[ChatMessage | Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Messages as wire dicts. A ``tool`` message with no ``tool_call_id`` (seed-era code) gets the id of the
    preceding assistant tool call with the same name, taken in order."""
    if isinstance(messages, EncodedMessages):
        return messages
    if isinstance(messages, str | bytes) or not isinstance(messages, Sequence):
        raise TypeError("messages must be a list of ChatMessage objects or dicts")
    out: list[dict[str, Any]] = []
    pending: list[tuple[str, str]] = []  # (id, name) of tool calls not yet answered
    for message in messages:
        wire = message_dict(message)
        role = wire["role"]
        if role == "assistant":
            pending = [(call["id"], call["function"]["name"]) for call in wire.get("tool_calls") or ()]
        elif role == "tool":
            call_id = wire.get("tool_call_id")
            if not call_id:
                call_id = claim_call_id(pending, wire.get("name"))
                if call_id is not None:
                    wire["tool_call_id"] = call_id
            else:
                pending = [p for p in pending if p[0] != call_id]
        out.append(wire)
    return out


def claim_call_id(pending: list[tuple[str, str]], name: str | None) -> str | None:
    """The seed-era match of a tool result without ``tool_call_id``: the first pending ``(id, name)`` call with the
    result's name (any, when the result has none), taken off ``pending``; None when there is none."""
    for position, (call_id, call_name) in enumerate(pending):
        if name is None or call_name == name:
            del pending[position]
            return call_id
    return None


def message_dict(message: ChatMessage | Mapping[str, Any]) -> dict[str, Any]:
    """One message in wire form: only the fields that are set; tool-call arguments as JSON text."""
    if isinstance(message, ChatMessage):
        wire: dict[str, Any] = {"role": message.role}
        if message.content is not None:
            wire["content"] = _plain(message.content)
        if message.tool_calls:
            wire["tool_calls"] = [
                {
                    "id": call.id,
                    "type": "function",
                    "function": {"name": call.function.name, "arguments": call.function.arguments},
                }
                for call in message.tool_calls
            ]
        if message.name is not None:
            wire["name"] = message.name
        if message.tool_call_id is not None:
            wire["tool_call_id"] = message.tool_call_id
        if message.prefix is not None:
            wire["prefix"] = message.prefix
        return wire
    if isinstance(message, Mapping):
        if "role" not in message:
            raise ValueError(f"a message needs a 'role': {dict(message)!r:.200}")
        wire = {key: _plain(value) for key, value in message.items() if value is not None}
        calls = wire.get("tool_calls")
        if calls:
            wire["tool_calls"] = [_tool_call_dict(call) for call in calls]
        return wire
    raise TypeError(f"a message must be a ChatMessage or a dict, not {type(message).__name__}")


def _tool_call_dict(call: Mapping[str, Any]) -> dict[str, Any]:
    function = dict(call.get("function") or {})
    arguments = function.get("arguments", "")
    if not isinstance(arguments, str):
        function["arguments"] = json.dumps(arguments, ensure_ascii=False)
    return {"id": call.get("id", "null"), "type": call.get("type", "function"), "function": function}


def serialize_tools(tools: Iterable[Any]) -> list[dict[str, Any]]:
    """Tool specs from ``Tool`` objects (anything with a ``spec``), spec dicts, or seed-era ``Function`` models."""
    specs: list[dict[str, Any]] = []
    for item in tools:
        spec = getattr(item, "spec", None)
        if isinstance(spec, dict):
            specs.append(spec)
        elif isinstance(item, Mapping):
            specs.append(_plain(item))
        elif isinstance(item, BaseModel):
            dumped = _plain(item)
            specs.append(dumped if "function" in dumped else {"type": "function", "function": dumped})
        else:
            raise TypeError(f"a tool must be a @tool function, a spec dict or a Function, not {type(item).__name__}")
    return specs


def serialize_tool_choice(choice: Any) -> Any:
    """``"auto" | "any" | "none" | "required"``, a tool name, a ``Tool``, or the object form."""
    value = getattr(choice, "value", choice)  # ToolChoice enum
    if isinstance(value, str):
        if value in _TOOL_CHOICE_KEYWORDS:
            return value
        return {"type": "function", "function": {"name": value}}
    name = getattr(choice, "name", None)
    if isinstance(getattr(choice, "spec", None), dict) and isinstance(name, str):
        return {"type": "function", "function": {"name": name}}
    if isinstance(choice, Mapping):
        return _plain(choice)
    raise TypeError(f"unsupported tool_choice: {choice!r}")


def serialize_response_format(response_format: Any) -> Any:
    """A dict, a ``ResponseFormat``, or a pydantic model class (sent as a strict ``json_schema``)."""
    if isinstance(response_format, type) and issubclass(response_format, BaseModel):
        return json_schema_format(response_format)
    if isinstance(response_format, BaseModel | Mapping):
        return _plain(response_format)
    raise TypeError("response_format must be a dict, a ResponseFormat or a pydantic model class")


@lru_cache(maxsize=256)
def json_schema_format(model: type[BaseModel]) -> dict[str, Any]:
    """The ``json_schema`` response format for a pydantic model (computed once per class)."""
    schema = _close_objects(model.model_json_schema())
    json_schema: dict[str, Any] = {"name": model.__name__, "schema": schema, "strict": True}
    if model.__doc__ and model.__doc__.strip():
        json_schema["description"] = model.__doc__.strip()
    return {"type": "json_schema", "json_schema": json_schema}


def _close_objects(schema: Any) -> Any:
    if isinstance(schema, dict):
        closed = {key: _close_objects(value) for key, value in schema.items()}
        if closed.get("type") == "object" and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_close_objects(item) for item in schema]
    return schema


def _plain(value: Any) -> Any:
    """JSON-ready data from dicts, lists, enums and pydantic models (as found in seed-era tool specs)."""
    if isinstance(value, str | int | float | bool) or value is None:
        return getattr(value, "value", value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", exclude_none=True)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


# --------------------------------------------------------------------------------------------------- responses
def decode(model: type[M], content: bytes, status_code: int = 200) -> M:
    """A response body as ``model``; an unreadable body is a `ResponseDecodeError`, never a crash."""
    try:
        return model.model_validate_json(content)
    except ValidationError as error:
        details = error.errors()
        reason = details[0]["msg"] if details else "unexpected shape"
        if details and details[0]["type"] == "json_invalid":
            reason = "the body is not valid JSON"
        raise ResponseDecodeError(
            f"{status_code}: could not read the {model.__name__} in the response ({reason}): {snippet(content)}",
            status_code=status_code,
            body=snippet(content),
        ) from None


# --------------------------------------------------------------------------------------------------- streams
DONE = "[DONE]"


class ChunkReader:
    """Turns the data of each SSE event into a chunk, and knows whether the stream ended properly."""

    __slots__ = ("done", "finished")

    def __init__(self) -> None:
        self.done = False
        self.finished = False

    def read(self, data: str) -> ChatCompletionStreamResponse | None:
        """The chunk in ``data``; None once ``[DONE]`` arrives. An error event raises."""
        if data == DONE:
            self.done = True
            return None
        chunk = decode(ChatCompletionStreamResponse, data.encode())
        if not chunk.choices:
            extra = chunk.model_extra or {}
            if "error" in extra or chunk.object == "error" or "message" in extra:
                _, message, code, kind, _ = parse_error_body(data.encode())
                raise MistralAPIException(
                    f"error in the stream: {message}", status_code=200, code=code, type=kind, body=data
                )
        elif all(choice.finish_reason is not None for choice in chunk.choices):
            self.finished = True
        return chunk

    def end(self) -> None:
        """The connection closed: fine after ``[DONE]`` or a finish reason, an error otherwise."""
        if not (self.done or self.finished):
            raise MistralConnectionException("the stream ended before it was complete (no [DONE], no finish reason)")
