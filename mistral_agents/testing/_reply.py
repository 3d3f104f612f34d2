"""What the offline model answers to one chat request: a small, immutable `Reply`.

A reply has a ``kind``: ``"text"``, ``"tool_calls"``, ``"error"`` (a status with a JSON or text body), ``"raw"`` (any
bytes with any content type) or ``"disconnect"`` (the connection drops before a response). Stream faults are
modifiers on any streamed reply: ``cut_after`` (the connection drops after N SSE events) and ``omit_done`` (the
stream ends cleanly without ``data: [DONE]``).

To add a fault kind: add its name to `ReplyKind`, a constructor here, and one branch where a reply becomes
bytes (``_render.render_reply``) — the transport and the server both play whatever `WireResponse`
comes out, so neither needs to change unless the fault is about the connection itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

__all__ = ["PlannedCall", "Reply", "ReplyKind"]

ReplyKind = Literal["text", "tool_calls", "error", "raw", "disconnect"]


@dataclass(frozen=True)
class PlannedCall:
    """One tool call the model will make; ``arguments`` is the JSON text sent on the wire."""

    name: str
    arguments: str
    id: str | None = None


def _arguments_text(arguments: Mapping[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(dict(arguments), ensure_ascii=False)


@dataclass(frozen=True)
class Reply:
    """One answer of the offline model.

    Build it with the class methods; tweak it with [`with_`][mistral_agents.testing.Reply.with_].
    """

    kind: ReplyKind
    content: str = ""
    calls: tuple[PlannedCall, ...] = ()
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()
    #: Seconds to wait before the response starts.
    delay: float = 0.0
    #: Seconds to wait between streamed events.
    chunk_delay: float = 0.0
    finish_reason: str | None = None
    #: Replaces the computed usage (``prompt_tokens``, ``completion_tokens``, ``total_tokens``).
    usage: Mapping[str, int] | None = None
    #: Streaming only: drop the connection after this many SSE events.
    cut_after: int | None = None
    #: Streaming only: end the stream without ``data: [DONE]``.
    omit_done: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def text(cls, content: str, **options: Any) -> Reply:
        """A plain text answer."""
        return cls(kind="text", content=content, **options)

    @classmethod
    def tool_call(
        cls, name: str, arguments: Mapping[str, Any] | str | None = None, id: str | None = None, **options: Any
    ) -> Reply:
        """One tool call; ``arguments`` as a dict (sent as JSON) or the exact JSON text to send."""
        return cls(kind="tool_calls", calls=(PlannedCall(name, _arguments_text(arguments or {}), id),), **options)

    @classmethod
    def tool_calls(
        cls,
        calls: Iterable[tuple[str, Mapping[str, Any] | str] | tuple[str, Mapping[str, Any] | str, str]],
        **options: Any,
    ) -> Reply:
        """Parallel tool calls in one message: ``[(name, arguments), ...]`` or ``(name, arguments, id)``."""
        planned = tuple(
            PlannedCall(call[0], _arguments_text(call[1]), call[2] if len(call) > 2 else None) for call in calls
        )
        return cls(kind="tool_calls", calls=planned, **options)

    @classmethod
    def error(
        cls,
        status: int,
        body: Mapping[str, Any] | str | bytes,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> Reply:
        """An HTTP error: a dict is sent as JSON, a str or bytes as given (JSON content type)."""
        if isinstance(body, Mapping):
            data = json.dumps(dict(body)).encode()
        else:
            data = body.encode() if isinstance(body, str) else body
        return cls(kind="error", status=status, body=data, headers=tuple((headers or {}).items()), **options)

    @classmethod
    def raw(
        cls, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None, **options: Any
    ) -> Reply:
        """Exactly these bytes (an HTML proxy page, malformed JSON, a hand-written SSE stream, ...)."""
        return cls(
            kind="raw",
            status=status,
            body=body,
            content_type=content_type,
            headers=tuple((headers or {}).items()),
            **options,
        )

    @classmethod
    def disconnect(cls, **options: Any) -> Reply:
        """The server closes the connection without answering."""
        return cls(kind="disconnect", **options)

    def with_(self, **changes: Any) -> Reply:
        """A copy with some fields changed, e.g. ``Reply.text("hi").with_(delay=0.5)``."""
        return replace(self, **changes)


def as_reply(value: Reply | str) -> Reply:
    """A plain string is a text reply."""
    return Reply.text(value) if isinstance(value, str) else value
