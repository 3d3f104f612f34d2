"""The built-in deterministic policy: enough of a model to run the payment-status support bot offline.

How it decides, for a chat request:

1. Tools offered and ``tool_choice`` not ``"none"``, last message from the user: pick the tools whose *name words*
   (``retrieve_payment_status`` → ``payment``, ``status``; generic verbs like get/retrieve/fetch dropped, and words
   every offered tool shares ignored) appear in the user's latest message — or, if it names none, in the earlier
   user messages since the last tool result ("What's the status…?" then "My transaction ID is T1001."). Several
   match → parallel calls. Required parameters are filled from the user's words (an id-like token such as ``T1001``
   for ``*_id``, a number for numbers, an enum value mentioned, a capitalised word for places and names); a value
   nowhere to be found → the model asks for it ("Could you please provide your transaction id?").
2. ``tool_choice`` ``any``/``required``/named: always a call (best match, else the first or the named tool), with
   values from the conversation or a minimal schema-valid placeholder.
3. ``response_format`` ``json_object`` / ``json_schema``: valid JSON (a minimal instance of the schema).
4. Last message a tool result: a sentence per result of the latest assistant turn, e.g. ``{"status": "Paid"}``
   from ``retrieve_payment_status(transaction_id="T1001")`` → "The status of transaction T1001 is Paid."
   ``canned_policy`` (the ``chat`` command's) reports each result as it is instead:
   ``retrieve_payment_status`` returned: ``{"status": "Paid"}``.
5. Otherwise a short deterministic answer that echoes the user.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from ..testing import Reply
from ..testing._tokens import text_of
from .synth import instance_of

__all__ = ["canned_policy", "demo_policy"]

GENERIC_WORDS = frozenset(
    {
        "get",
        "retrieve",
        "fetch",
        "lookup",
        "look",
        "up",
        "find",
        "query",
        "check",
        "read",
        "show",
        "list",
        "tool",
        "the",
        "a",
        "an",
        "of",
        "for",
        "by",
        "my",
        "info",
        "information",
        "data",
        "details",
        "do",
        "run",
        "call",
    }
)
SYNONYMS = {
    "date": ("when", "day"),
    "time": ("when",),
    "status": ("state",),
    "price": ("cost", "much"),
    "weather": ("temperature", "forecast", "rain", "sunny"),
    "amount": ("much",),
}
PLAIN_RESULT_CHARS = 300  # a canned report quotes this much of a tool result
ID_WORDS = frozenset({"id", "ids", "code", "number", "ref", "reference", "key", "sku", "uuid"})
FREE_TEXT_WORDS = frozenset({"query", "question", "text", "prompt", "message", "input", "topic", "content"})
_WORD = re.compile(r"[A-Za-z0-9]+")
_ID_TOKEN = re.compile(r"\b(?=[A-Za-z0-9-]*\d)(?=[A-Za-z0-9-]*[A-Za-z])[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]\b")
_UPPER_ID = re.compile(r"\b[A-Z]+-?\d+[A-Z0-9]*\b")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.])")
_PROPER_NOUN = re.compile(r"(?<![.!?]\s)(?<!^)(?<![.!?])\b[A-Z][a-z]+(?:\s[A-Z][a-z]+)*")


def demo_policy(request: dict[str, Any]) -> Reply | str:
    """The built-in answer to a chat request (see the module docstring)."""
    return _answer(request, _summary)


def canned_policy(request: dict[str, Any]) -> Reply | str:
    """The demo policy, but tool results are reported as they are (``get_weather returned: `{...}```).

    For the ``chat`` command with the user's own tools: sentences made up from a result's keys read like a
    real model's answer and are often nonsense; a plain report says what happened.
    """
    return _answer(request, _plain_summary)


def _answer(request: dict[str, Any], summarise: Callable[[list[dict[str, Any]]], str]) -> Reply | str:
    messages: list[dict[str, Any]] = request["messages"]
    functions = [tool["function"] for tool in request.get("tools") or [] if isinstance(tool.get("function"), dict)]
    choice = request.get("tool_choice")
    parallel = request.get("parallel_tool_calls") is not False
    if functions and choice != "none":
        if isinstance(choice, dict) or choice in ("any", "required"):
            return _forced_calls(messages, functions, choice, parallel)
        if messages[-1]["role"] == "user":
            planned = _planned_calls(messages, functions, parallel)
            if planned is not None:
                return planned
    answer = summarise(messages) if messages[-1]["role"] == "tool" else _chat_answer(messages, functions)
    return _formatted(answer, request.get("response_format"))


# --- which tools ----------------------------------------------------------------------------------------------


def words_of(text: str) -> list[str]:
    """Lower-case words, camelCase and snake_case split."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", text)
    return [word.lower() for word in _WORD.findall(spaced)]


def _text_words(text: str) -> set[str]:
    words = set(words_of(text))
    return words | {word[:-1] for word in words if word.endswith("s")}


def _topic_words(functions: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each tool's distinguishing name words: generic verbs dropped, and words every tool shares."""
    named = {f["name"]: [w for w in words_of(f["name"]) if w not in GENERIC_WORDS] for f in functions}
    shared = set.intersection(*(set(words) for words in named.values())) if len(named) > 1 else set()
    return {name: ([w for w in words if w not in shared] or words) for name, words in named.items()}


def _matching(text: str, functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    said = _text_words(text)
    topics = _topic_words(functions)
    return [
        f
        for f in functions
        if any(word in said or said.intersection(SYNONYMS.get(word, ())) for word in topics[f["name"]])
    ]


def _user_texts(messages: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """User texts, latest first: those since the last tool result, and all of them."""
    recent: list[str] = []
    everything: list[str] = []
    in_window = True
    for message in reversed(messages):
        if message["role"] == "tool":
            in_window = False
        elif message["role"] == "user":
            text = text_of(message.get("content"))
            everything.append(text)
            if in_window:
                recent.append(text)
    return recent, everything


def _planned_calls(
    messages: list[dict[str, Any]], functions: list[dict[str, Any]], parallel: bool
) -> Reply | str | None:
    recent, everything = _user_texts(messages)
    chosen: list[dict[str, Any]] = []
    for text in recent:
        chosen = _matching(text, functions)
        if chosen:
            break
    if not chosen:
        return None
    chosen = chosen if parallel else chosen[:1]
    calls: list[tuple[str, dict[str, Any]]] = []
    missing: list[str] = []
    for function in chosen:
        arguments, lacking = _arguments(function, everything)
        calls.append((function["name"], arguments))
        missing.extend(item for item in lacking if item not in missing)
    if missing:
        return "Could you please provide " + " and ".join(f"your {item}" for item in missing) + "?"
    return Reply.tool_calls(calls)


def _forced_calls(
    messages: list[dict[str, Any]], functions: list[dict[str, Any]], choice: Any, parallel: bool
) -> Reply:
    _, everything = _user_texts(messages)
    if isinstance(choice, dict):
        name = choice["function"]["name"]
        chosen = [f for f in functions if f["name"] == name] or [{"name": name, "parameters": {}}]
    else:
        chosen = next((found for text in everything if (found := _matching(text, functions))), functions[:1])
        chosen = chosen if parallel else chosen[:1]
    calls = []
    for function in chosen:
        arguments, _ = _arguments(function, everything)
        calls.append((function["name"], arguments))
    return Reply.tool_calls(calls)


# --- which arguments ------------------------------------------------------------------------------------------


def _arguments(function: dict[str, Any], texts: list[str]) -> tuple[dict[str, Any], list[str]]:
    """Values for the required parameters from the user's words; placeholders and the names of the missing ones."""
    schema = function.get("parameters") or {}
    properties = schema.get("properties") or {}
    arguments: dict[str, Any] = {}
    missing: list[str] = []
    for name in schema.get("required") or []:
        spec = properties.get(name) or {}
        value = _value_for(name, spec, texts)
        if value is None:
            missing.append(" ".join(words_of(name)))
            value = instance_of(spec)
        arguments[name] = value
    return arguments, missing


def _value_for(name: str, spec: dict[str, Any], texts: list[str]) -> Any:
    words = set(words_of(name))
    kind = spec.get("type")
    found: Any
    for text in texts:
        if spec.get("enum"):
            lowered = text.lower()
            found = next((v for v in spec["enum"] if isinstance(v, str) and v.lower() in lowered), None)
        elif kind in ("integer", "number"):
            numbers = _NUMBER.findall(text)
            found = (int(numbers[0]) if kind == "integer" else float(numbers[0])) if numbers else None
        elif kind in ("string", None):
            found = _string_value(words, text)
        else:
            return instance_of(spec)
        if found is not None:
            return found
    return None


def _string_value(words: set[str], text: str) -> str | None:
    if words & FREE_TEXT_WORDS:
        return text
    ids = _UPPER_ID.findall(text) or _ID_TOKEN.findall(text)
    if words & ID_WORDS:
        return ids[0] if ids else None
    proper = _PROPER_NOUN.findall(text)
    return proper[0] if proper else (ids[0] if ids else None)


# --- what to say ----------------------------------------------------------------------------------------------


def _latest_results(messages: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any], dict[str, Any]]] | None:
    """``(tool name, its call's function, the tool message)`` for each result of the latest tool-call turn."""
    starts = [i for i, m in enumerate(messages) if m["role"] == "assistant" and m.get("tool_calls")]
    if not starts:
        return None
    start = starts[-1]
    calls = {call.get("id"): call.get("function") or {} for call in messages[start]["tool_calls"]}
    results = []
    for message in messages[start + 1 :]:
        function = calls.get(message.get("tool_call_id"), {})
        results.append((function.get("name") or message.get("name") or "the tool", function, message))
    return results


def _summary(messages: list[dict[str, Any]]) -> str:
    """One sentence per tool result of the latest assistant turn."""
    results = _latest_results(messages)
    if results is None:
        return "I have no tool call to report on."
    return " ".join(
        _result_sentence(name, _parse(function.get("arguments")), _parse(message.get("content")))
        for name, function, message in results
    )


def _plain_summary(messages: list[dict[str, Any]]) -> str:
    """One line per tool result of the latest assistant turn, as the tool returned it."""
    results = _latest_results(messages)
    if results is None:
        return "I have no tool call to report on."
    lines = []
    for name, _, message in results:
        content = text_of(message.get("content"))
        if len(content) > PLAIN_RESULT_CHARS:
            content = f"{content[:PLAIN_RESULT_CHARS]}… ({len(content)} characters)"
        lines.append(f"`{name}` returned: `{content}`")
    return "\n".join(lines)


def _parse(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return text_of(value) if isinstance(value, list) else value


def _subject(arguments: Any) -> str:
    """``{"transaction_id": "T1001"}`` → ``"transaction T1001"``."""
    if not isinstance(arguments, dict):
        return ""
    parts = []
    for key, value in arguments.items():
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            label = [w for w in words_of(key) if w not in ID_WORDS] or words_of(key)
            parts.append(f"{' '.join(label)} {value}")
    return " and ".join(parts)


def _result_sentence(name: str, arguments: Any, result: Any) -> str:
    subject = _subject(arguments)
    topic = " ".join(w for w in words_of(name) if w not in GENERIC_WORDS) or name
    of_subject = f" of {subject}" if subject else ""
    if isinstance(result, dict) and ("error" in result or "detail" in result):
        return f"Sorry, I could not get the {topic}{of_subject}: {result.get('error', result.get('detail'))}."
    if isinstance(result, dict) and result:
        return " ".join(
            f"The {' '.join(words_of(key))}{of_subject} is {_spoken(value)}." for key, value in result.items()
        )
    if isinstance(result, str) and result.lower().startswith("error"):
        return f"Sorry, I could not get the {topic}{of_subject}: {result}"
    return f"The {topic}{of_subject} is {_spoken(result)}."


def _spoken(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(_spoken(item) for item in value) or "empty"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return "unknown" if value is None else str(value)


def _chat_answer(messages: list[dict[str, Any]], functions: list[dict[str, Any]]) -> str:
    last = messages[-1]
    if last["role"] == "assistant":  # prefix: continue it
        return f"{text_of(last.get('content'))} (continued by the offline model)"
    text = text_of(last.get("content")).strip()
    said = set(words_of(text))
    if said & {"thanks", "thank", "thx"}:
        return "You're welcome! Is there anything else I can help you with?"
    if said & {"hello", "hi", "hey", "bonjour"} and len(said) <= 4:
        return "Hello! How can I help you today?"
    if functions:
        topics = sorted({" ".join(w for w in words_of(f["name"]) if w not in GENERIC_WORDS) for f in functions})
        return f"I can help you with: {', '.join(topics)}. What would you like to know?"
    return f"(offline model) You said: {text}"


def _formatted(answer: str, response_format: Any) -> str:
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "json_object":
        return json.dumps({"answer": answer}, ensure_ascii=False)
    if kind == "json_schema":
        return json.dumps(instance_of((response_format.get("json_schema") or {}).get("schema") or {}))
    return answer
