"""A history window: only the recent turns of a long conversation are sent; the session keeps everything."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from .._wire import message_dict
from ..models.chat_completion import ChatMessage

__all__ = ["HistoryWindow"]


@dataclass(frozen=True)
class HistoryWindow:
    """Send at most ``max_messages`` messages and/or about ``max_tokens`` tokens of the history.

    The window always starts at a user message, so a tool call is never separated from its results, and the
    system prompt (leading ``system`` messages) is always kept. The most recent user turn is kept whole even if it
    alone is over the budget. Tokens are estimated from the text sent (``chars_per_token`` characters of wire JSON
    per token; 3 is a cautious figure for Mistral's tokenizers on English text), so leave some margin below the
    model's context length.
    """

    max_messages: int | None = None
    max_tokens: int | None = None
    chars_per_token: float = 3.0

    def __post_init__(self) -> None:
        if self.max_messages is None and self.max_tokens is None:
            raise ValueError("a HistoryWindow needs max_messages or max_tokens")
        if (self.max_messages is not None and self.max_messages < 1) or (
            self.max_tokens is not None and self.max_tokens < 1
        ):
            raise ValueError("max_messages and max_tokens must be positive")
        if self.chars_per_token <= 0:
            raise ValueError("chars_per_token must be positive")

    def estimate(self, message: ChatMessage) -> int:
        """The estimated tokens of one message as sent."""
        return math.ceil(len(json.dumps(message_dict(message), ensure_ascii=False)) / self.chars_per_token)

    def apply(self, messages: Sequence[ChatMessage]) -> list[ChatMessage]:
        """The messages to send: the leading system messages, then the longest recent run of turns that fits."""
        head = 0
        while head < len(messages) and messages[head].role == "system":
            head += 1
        system, rest = list(messages[:head]), list(messages[head:])
        starts = [i for i, m in enumerate(rest) if m.role == "user"]
        if not starts:
            return system + rest
        budget = None if self.max_tokens is None else self.max_tokens - sum(self.estimate(m) for m in system)
        cut = starts[-1]  # the latest turn is always kept
        used = sum(self.estimate(m) for m in rest[cut:]) if budget is not None else 0
        for start in reversed(starts[:-1]):
            if self.max_messages is not None and len(rest) - start > self.max_messages:
                break
            if budget is not None:
                used += sum(self.estimate(m) for m in rest[start:cut])
                if used > budget:
                    break
            cut = start
        return system + rest[cut:]
