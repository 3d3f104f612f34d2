"""Deterministic stand-ins for tokens, ids and hashes."""

from __future__ import annotations

import hashlib
import json
import re
import string
from collections.abc import Iterable
from typing import Any

from ..models.chat_completion import content_text

__all__ = ["count_tokens", "digest", "make_tool_call_ids", "prompt_tokens", "text_of"]

_TOKEN = re.compile(r"\w+|[^\w\s]")
_ALPHABET = string.ascii_letters + string.digits


def count_tokens(text: str) -> int:
    """Words and punctuation marks: a stable, roughly realistic token count."""
    return len(_TOKEN.findall(text))


def text_of(content: Any) -> str:
    """The text of a message ``content`` (a string, a list of chunks, or None), pieces apart by a space."""
    return content_text(content, " ")


def prompt_tokens(body: dict[str, Any]) -> int:
    """Tokens of a chat request: every message (content and tool calls) and the tool specs."""
    total = 0
    for message in body.get("messages") or []:
        if isinstance(message, dict):
            total += 3 + count_tokens(text_of(message.get("content")))
            if message.get("tool_calls"):
                total += count_tokens(json.dumps(message["tool_calls"]))
    if body.get("tools"):
        total += count_tokens(json.dumps(body["tools"]))
    return total


def digest(*parts: Any) -> str:
    """A hex sha256 of the JSON of ``parts``: equal inputs give equal outputs, run after run."""
    data = json.dumps(parts, sort_keys=True, default=str, ensure_ascii=False).encode()
    return hashlib.sha256(data).hexdigest()


def _alphanumeric(seed: str, length: int) -> str:
    number = int(digest(seed), 16)
    chars = []
    for _ in range(length):
        number, remainder = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[remainder])
    return "".join(chars)


def make_tool_call_ids(count: int, seed: Any, taken: Iterable[str] = (), *, openai_style: bool = False) -> list[str]:
    """``count`` distinct ids derived from ``seed`` (e.g. the conversation), avoiding the ``taken`` ones.

    Mistral style: 9 alphanumerics. OpenAI style: ``call_`` and 24 alphanumerics.
    """
    used = set(taken)
    ids: list[str] = []
    attempt = 0
    while len(ids) < count:
        candidate = _alphanumeric(f"{digest(seed)}:{attempt}", 24 if openai_style else 9)
        candidate = f"call_{candidate}" if openai_style else candidate
        attempt += 1
        if candidate not in used:
            used.add(candidate)
            ids.append(candidate)
    return ids
