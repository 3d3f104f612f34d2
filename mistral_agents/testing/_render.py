"""A `Reply` to a chat request, rendered as the bytes the hosted API sends (JSON or SSE)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any, Literal

from ._reply import PlannedCall, Reply
from ._tokens import count_tokens, digest, prompt_tokens
from ._wire_response import WireResponse

__all__ = ["CREATED", "RenderOptions", "render_reply"]

#: A fixed ``created`` timestamp keeps responses byte-for-byte deterministic.
CREATED = 1_732_548_590
_PIECE = re.compile(r"\S+\s*|\s+")


@dataclass(frozen=True)
class RenderOptions:
    tool_call_streaming: Literal["whole", "incremental"] = "whole"
    #: OpenAI-style streams only carry usage when ``stream_options.include_usage`` asks for it.
    openai_compatible: bool = False


def render_reply(reply: Reply, body: dict[str, Any], options: RenderOptions) -> WireResponse:
    """The HTTP response for ``reply`` to the chat request ``body`` (tool-call ids already assigned)."""
    return replace(_untimed(reply, body, options), delay=reply.delay, part_delay=reply.chunk_delay)


def _untimed(reply: Reply, body: dict[str, Any], options: RenderOptions) -> WireResponse:
    if reply.kind == "disconnect":
        return WireResponse(0, (), disconnect=True)
    if reply.kind in ("error", "raw"):
        headers = (("content-type", reply.content_type), *reply.headers)
        return WireResponse(reply.status, headers, (reply.body,))
    text, finish_reason = _shape_text(reply, body)
    usage = dict(reply.usage) if reply.usage is not None else _usage(reply, text, body)
    identity = {"id": digest("chat", body)[:32], "model": body.get("model", ""), "created": CREATED}
    choices = max(1, int(body.get("n") or 1))
    if not body.get("stream"):
        data = _completion(reply, text, finish_reason, usage, identity, choices)
        headers = (("content-type", "application/json"), *reply.headers)
        return WireResponse(200, headers, (json.dumps(data, ensure_ascii=False).encode(),))
    include_usage = not options.openai_compatible or bool((body.get("stream_options") or {}).get("include_usage"))
    events = _stream_events(
        reply, text, finish_reason, usage if include_usage else None, identity, choices, options.tool_call_streaming
    )
    parts = [f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode() for event in events]
    if not reply.omit_done:
        parts.append(b"data: [DONE]\n\n")
    abort = reply.cut_after is not None and reply.cut_after < len(parts)
    if reply.cut_after is not None:
        parts = parts[: reply.cut_after]
    headers = (("content-type", "text/event-stream"), ("cache-control", "no-cache"), *reply.headers)
    return WireResponse(200, headers, tuple(parts), streamed=True, abort=abort)


def _shape_text(reply: Reply, body: dict[str, Any]) -> tuple[str, str]:
    """The text after ``stop`` and ``max_tokens`` are applied, and the finish reason that goes with it."""
    if reply.kind == "tool_calls":
        return "", reply.finish_reason or "tool_calls"
    text, reason = reply.content, "stop"
    stops = body.get("stop")
    for stop in [stops] if isinstance(stops, str) else stops or []:
        if stop and stop in text:
            text = text[: text.index(stop)]
    limit = body.get("max_tokens")
    if isinstance(limit, int) and count_tokens(text) > limit:
        kept, used = [], 0
        for piece in _PIECE.findall(text):
            used += count_tokens(piece)
            if used > limit:
                break
            kept.append(piece)
        text, reason = "".join(kept).rstrip(), "length"
    return text, reply.finish_reason or reason


def _usage(reply: Reply, text: str, body: dict[str, Any]) -> dict[str, int]:
    choices = max(1, int(body.get("n") or 1))
    if reply.kind == "tool_calls":
        completion = sum(count_tokens(call.name) + count_tokens(call.arguments) for call in reply.calls)
    else:
        completion = count_tokens(text)
    completion = max(1, completion) * choices
    prompt = prompt_tokens(body)
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _wire_call(call: PlannedCall, index: int) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
        "index": index,
    }


def _completion(
    reply: Reply, text: str, finish_reason: str, usage: dict[str, int], identity: dict[str, Any], choices: int
) -> dict[str, Any]:
    calls = [_wire_call(call, index) for index, call in enumerate(reply.calls)] or None
    message = {"role": "assistant", "content": text, "tool_calls": calls}
    return {
        "id": identity["id"],
        "object": "chat.completion",
        "created": identity["created"],
        "model": identity["model"],
        "choices": [{"index": index, "message": message, "finish_reason": finish_reason} for index in range(choices)],
        "usage": usage,
        **reply.extra,
    }


def _text_pieces(text: str) -> list[str]:
    """About a word per piece, and at least two pieces for any text of two characters or more."""
    pieces = _PIECE.findall(text)
    if len(pieces) == 1 and len(text) > 1:
        half = len(text) // 2
        pieces = [text[:half], text[half:]]
    return pieces


def _argument_pieces(arguments: str) -> list[str]:
    size = max(1, -(-len(arguments) // 3))
    return [arguments[start : start + size] for start in range(0, len(arguments), size)] or [""]


def _deltas(reply: Reply, text: str, streaming: str) -> list[dict[str, Any]]:
    """The deltas after the opening ``{"role": "assistant", "content": ""}``."""
    if reply.kind != "tool_calls":
        return [{"content": piece} for piece in _text_pieces(text)] or [{"content": ""}]
    if streaming == "whole":
        return [{"tool_calls": [_wire_call(call, index) for index, call in enumerate(reply.calls)]}]
    deltas: list[dict[str, Any]] = []
    for index, call in enumerate(reply.calls):
        opening = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        deltas.append({"tool_calls": [opening]})
        deltas.extend(
            {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            for piece in _argument_pieces(call.arguments)
        )
    deltas.append({})
    return deltas


def _stream_events(
    reply: Reply,
    text: str,
    finish_reason: str,
    usage: dict[str, int] | None,
    identity: dict[str, Any],
    choices: int,
    streaming: str,
) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for choice in range(choices):
        deltas = [{"role": "assistant", "content": ""}, *_deltas(reply, text, streaming)]
        for position, delta in enumerate(deltas):
            last = position == len(deltas) - 1
            events.append(
                {
                    "id": identity["id"],
                    "object": "chat.completion.chunk",
                    "created": identity["created"],
                    "model": identity["model"],
                    "choices": [{"index": choice, "delta": delta, "finish_reason": finish_reason if last else None}],
                }
            )
    if usage is not None:
        events[-1]["usage"] = usage
    return events
