"""Transcripts the hosted API accepts, by construction.

- Tool-call ids are 9 alphanumerics: any other id (``call_...`` from an OpenAI-compatible server, ``"null"``
  from the seed era, a duplicate) is rewritten, consistently in the assistant message and its tool results.
- Every tool call has exactly one result; a ``tool`` turn is never followed directly by a ``user`` turn.
- No empty assistant messages; ``name`` only on ``tool`` messages.
- System messages only before the first assistant turn: a later one becomes a ``user`` message.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .._wire import claim_call_id
from ..models.chat_completion import TOOL_CALL_ID_PATTERN, TOOL_NAME_PATTERN, ChatMessage, FunctionCall, ToolCall

logger = logging.getLogger("mistral_agents.agent")

__all__ = ["IdAllocator", "has_content", "normalize_history"]

_NAME_JUNK = re.compile(r"[^a-zA-Z0-9_-]")
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

#: What stands between a tool result and a new user turn when a history ends with tool results.
ACKNOWLEDGEMENT = "Understood."
#: The result recorded for a call in an imported history that never got one.
MISSING_RESULT = "Error: this tool call was not run."


class IdAllocator:
    """Hands out valid, distinct tool-call ids; keeps valid ones, replaces the rest deterministically."""

    __slots__ = ("_taken",)

    def __init__(self, taken: Iterable[str] = ()) -> None:
        self._taken = set(taken)

    def claim(self, original: str) -> str:
        """``original`` if it is valid and unused, else a fresh id derived from it."""
        if TOOL_CALL_ID_PATTERN.match(original) and original not in self._taken:
            self._taken.add(original)
            return original
        salt = 0
        while True:
            candidate = _derive(original, salt)
            if candidate not in self._taken:
                self._taken.add(candidate)
                return candidate
            salt += 1


def _derive(original: str, salt: int) -> str:
    number = int.from_bytes(hashlib.blake2b(f"{original}\x00{salt}".encode(), digest_size=8).digest(), "big")
    chars = []
    for _ in range(9):
        number, digit = divmod(number, 62)
        chars.append(_ALPHABET[digit])
    return "".join(chars)


def valid_name(name: str) -> str:
    """A function name the hosted API accepts (``^[a-zA-Z0-9_-]{1,64}$``): ``name`` itself when it is one."""
    if isinstance(name, str) and TOOL_NAME_PATTERN.match(name):
        return name
    return _NAME_JUNK.sub("_", str(name or ""))[:64] or "unnamed_tool"


def with_valid_ids(message: ChatMessage, ids: IdAllocator) -> ChatMessage:
    """The assistant ``message`` with its tool-call ids made valid and distinct, and its function names valid
    (a copy only if needed)."""
    calls = message.tool_calls
    if not calls:
        return message
    fixed = [ids.claim(call.id) for call in calls]
    names = [valid_name(call.function.name) for call in calls]
    if all(
        new == call.id and name == call.function.name and call.type == "function"
        for new, name, call in zip(fixed, names, calls, strict=True)
    ):
        return message
    new_calls = [
        ToolCall(id=new, function=FunctionCall(name=name, arguments=call.function.arguments))
        for new, name, call in zip(fixed, names, calls, strict=True)
    ]
    return message.model_copy(update={"tool_calls": new_calls})


def normalize_history(
    history: Sequence[ChatMessage | Mapping[str, Any]], ids: IdAllocator, *, leave_open: bool = False
) -> list[ChatMessage]:
    """A prior conversation (``RunResult.messages``, seed-era lists, OpenAI-style exports) made valid.

    ``leave_open``: the last assistant message's unanswered calls stay unanswered (a paused run to resume).
    """
    out: list[ChatMessage] = []
    pending: list[tuple[str, str]] = []  # (new id, name) of calls still waiting for a result
    renamed: dict[str, list[str]] = {}  # original id -> new ids, in order
    for item in history:
        message = item if isinstance(item, ChatMessage) else ChatMessage.model_validate(item)
        role = message.role
        if role != "tool":
            _close_pending(out, pending)
        if role == "assistant":
            if not message.tool_calls and not has_content(message):
                logger.debug("dropping an empty assistant message from the history")
                continue
            fixed = with_valid_ids(message, ids)
            for old, new in zip(message.tool_calls or (), fixed.tool_calls or (), strict=True):
                renamed.setdefault(old.id, []).append(new.id)
            pending = [(call.id, call.function.name) for call in fixed.tool_calls or ()]
            out.append(_without_name(fixed))
        elif role == "tool":
            call_id = _match(message, pending, renamed)
            if call_id is None:
                logger.debug("dropping a tool result that answers no pending call: %r", message.tool_call_id)
                continue
            out.append(message.model_copy(update={"tool_call_id": call_id}))
        elif role in ("user", "system") and out and out[-1].role in ("assistant", "tool"):
            if role == "system":
                # The API takes system messages only before the first assistant turn: a later one is sent as
                # what it is to the model at that point, an instruction in the conversation (a user turn).
                logger.debug("a system message after an assistant turn in the history is sent as a user message")
                message = ChatMessage(role="user", content=message.content if message.content else "")
                if not has_content(message):
                    continue
            if out[-1].role == "tool":
                out.append(ChatMessage(role="assistant", content=ACKNOWLEDGEMENT))
            out.append(_without_name(message))
        else:
            out.append(_without_name(message))
    if not leave_open:
        _close_pending(out, pending)
    return out


def prepare_for_user_turn(messages: list[ChatMessage]) -> None:
    """Make ``messages`` ready for a new user message: tool results get an assistant turn after them."""
    if messages and messages[-1].role == "tool":
        messages.append(ChatMessage(role="assistant", content=ACKNOWLEDGEMENT))


def _match(message: ChatMessage, pending: list[tuple[str, str]], renamed: dict[str, list[str]]) -> str | None:
    """The pending call a tool result answers: by its (possibly rewritten) id, or, seed-style without an id, by
    name in order."""
    if not message.tool_call_id:
        return claim_call_id(pending, message.name)
    for new in renamed.get(message.tool_call_id, ()):
        for position, (call_id, _) in enumerate(pending):
            if call_id == new:
                del pending[position]
                return call_id
    return None


def _close_pending(out: list[ChatMessage], pending: list[tuple[str, str]]) -> None:
    for call_id, name in pending:
        out.append(ChatMessage(role="tool", tool_call_id=call_id, name=name, content=MISSING_RESULT))
    pending.clear()


def has_content(message: ChatMessage) -> bool:
    """Whether ``message`` says something: non-blank text or a non-empty list of content pieces."""
    content = message.content
    return bool(content.strip()) if isinstance(content, str) else bool(content)


def _without_name(message: ChatMessage) -> ChatMessage:
    return message.model_copy(update={"name": None}) if message.name is not None else message
