"""Merge a stream of chunks into the one response it spells out.

Tool calls may arrive whole in one delta (Mistral models) or in fragments keyed by ``index`` (OpenAI-compatible
servers, some models): both merge the same way — keyed by ``index`` (its position in the delta when absent),
``arguments`` concatenated, the first non-empty ``id`` and ``name`` kept. A fragment with a different ``id`` at an
index already in use starts a new call instead of corrupting the old one, and so does a fragment with neither
``id`` nor ``index`` that names a function once the current call is complete.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .models.chat_completion import (
    ChatCompletionResponse,
    ChatCompletionResponseChoice,
    ChatCompletionStreamResponse,
    ChatMessage,
    FunctionCall,
    ToolCall,
    content_text,
)
from .models.common import UsageInfo

__all__ = ["StreamAccumulator", "amerge_stream", "merge_stream"]


@dataclass
class _CallParts:
    index: int = 0
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


@dataclass
class _ChoiceParts:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    calls: dict[int, _CallParts] = field(default_factory=dict)
    slot_of_index: dict[int, int] = field(default_factory=dict)
    finish_reason: Any = None


class StreamAccumulator:
    """Feed it chunks with [`add`][mistral_agents.streaming.StreamAccumulator.add]; read the merged
    [`response`][mistral_agents.streaming.StreamAccumulator.response] (or
    [`message`][mistral_agents.streaming.StreamAccumulator.message]) at any time.
    """

    def __init__(self) -> None:
        self._choices: dict[int, _ChoiceParts] = {}
        self._first: ChatCompletionStreamResponse | None = None
        self.usage: UsageInfo | None = None

    def add(self, chunk: ChatCompletionStreamResponse) -> None:
        """Merge one streamed chunk."""
        if self._first is None:
            self._first = chunk
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            parts = self._choices.get(choice.index)
            if parts is None:
                parts = self._choices[choice.index] = _ChoiceParts()
            delta = choice.delta
            if delta.role:
                parts.role = delta.role
            if isinstance(delta.content, str):
                parts.content.append(delta.content)
            elif isinstance(delta.content, list):
                parts.content.append(content_text(delta.content))
            if delta.tool_calls:
                for position, call in enumerate(delta.tool_calls):
                    _merge_call(parts, position, call)
            if choice.finish_reason is not None:
                parts.finish_reason = choice.finish_reason

    @property
    def message(self) -> ChatMessage:
        """The merged message of the first choice."""
        return _message(self._choices.get(0) or _ChoiceParts())

    def response(self) -> ChatCompletionResponse:
        """The chunks so far, merged into one response (as a non-streamed call would return)."""
        first = self._first
        return ChatCompletionResponse(
            id=first.id if first else "",
            object="chat.completion",
            created=(first.created or 0) if first else 0,
            model=first.model if first else "",
            choices=[
                ChatCompletionResponseChoice(index=index, message=_message(parts), finish_reason=parts.finish_reason)
                for index, parts in sorted(self._choices.items())
            ],
            usage=self.usage or UsageInfo(),
        )


def _merge_call(parts: _ChoiceParts, position: int, call: ToolCall) -> None:
    index = call.index if call.index is not None else position
    call_id = call.id if call.id and call.id != "null" else ""
    slot = parts.slot_of_index.get(index)
    current = parts.calls.get(slot) if slot is not None else None
    if current is None or (call_id and current.id and call_id != current.id) or _starts_another(current, call):
        slot = len(parts.calls)
        current = parts.calls[slot] = _CallParts(index)
        parts.slot_of_index[index] = slot
    if call_id and not current.id:
        current.id = call_id
    if call.function.name and not current.name:
        current.name = call.function.name
    if call.function.arguments:
        current.arguments.append(call.function.arguments)


def _starts_another(current: _CallParts, call: ToolCall) -> bool:
    """A fragment with neither ``id`` nor ``index`` that names a function starts a new call when the current one is
    complete (some servers send each call whole, without either): it names another function, or the current
    arguments are already a whole JSON value. A repeated name on an unfinished call continues it."""
    if call.index is not None or (call.id and call.id != "null") or not call.function.name or not current.name:
        return False
    if call.function.name != current.name:
        return True
    return _is_whole_json("".join(current.arguments))


def _is_whole_json(text: str) -> bool:
    if not text.strip():
        return False
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


def _message(parts: _ChoiceParts) -> ChatMessage:
    calls = [
        ToolCall(id=c.id or "null", function=FunctionCall(name=c.name, arguments="".join(c.arguments)))
        for _, c in sorted(parts.calls.items(), key=lambda item: (item[1].index, item[0]))
    ]
    return ChatMessage(role=parts.role, content="".join(parts.content), tool_calls=calls or None)


def merge_stream(chunks: Iterable[ChatCompletionStreamResponse]) -> ChatCompletionResponse:
    """Consume a stream and return the response it adds up to."""
    accumulator = StreamAccumulator()
    for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.response()


async def amerge_stream(chunks: AsyncIterable[ChatCompletionStreamResponse]) -> ChatCompletionResponse:
    """Consume an async stream and return the response it adds up to."""
    accumulator = StreamAccumulator()
    async for chunk in chunks:
        accumulator.add(chunk)
    return accumulator.response()
