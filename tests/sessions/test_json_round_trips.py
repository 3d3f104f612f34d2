"""messages_to_json / messages_from_json and RunResult.to_json / from_json give back what went in."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from mistral_agents import ChatMessage, PendingCall, RunResult, RunUsage, messages_from_json, messages_to_json
from mistral_agents.models import FunctionCall, ToolCall
from mistral_agents.tools import ToolOutcome

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)  # fmt: skip
extra_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=10).filter(
    lambda name: name not in ChatMessage.model_fields
)
tool_calls = st.builds(
    ToolCall,
    id=st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=9, max_size=9),
    function=st.builds(FunctionCall, name=st.from_regex(r"[a-z_]{1,12}", fullmatch=True), arguments=st.text()),
)


@st.composite
def messages(draw: st.DrawFn) -> ChatMessage:
    fields: dict[str, Any] = {"role": draw(st.sampled_from(["system", "user", "assistant", "tool"]))}
    chunk = st.fixed_dictionaries({"type": st.just("text"), "text": st.text()})
    content = draw(st.none() | st.text() | st.lists(chunk))
    if content is not None or draw(st.booleans()):
        fields["content"] = content
    if draw(st.booleans()):
        fields["tool_calls"] = draw(st.lists(tool_calls, min_size=1, max_size=3))
    for name in ("name", "tool_call_id"):
        if draw(st.booleans()):
            fields[name] = draw(st.none() | st.text(max_size=12))
    if draw(st.booleans()):
        fields["prefix"] = draw(st.none() | st.booleans())
    fields.update(draw(st.dictionaries(extra_names, json_values, max_size=3)))
    return ChatMessage.model_validate(fields) if draw(st.booleans()) else ChatMessage(**fields)


@settings(max_examples=60, deadline=None)
@given(st.lists(messages(), max_size=6))
def test_messages_round_trip_through_json(conversation: list[ChatMessage]) -> None:
    text = messages_to_json(conversation)
    back = messages_from_json(text)
    assert back == conversation
    assert messages_to_json(back) == text  # and the text is stable


class Refund(BaseModel):
    transaction_id: str
    amount: float


outcomes = st.builds(
    ToolOutcome,
    tool_call_id=st.text(min_size=9, max_size=9),
    name=st.text(max_size=10),
    arguments=st.text(),
    args=st.none() | st.dictionaries(st.text(max_size=5), json_values, max_size=2),
    result=json_values,
    content=st.text(),
    error=st.none() | st.text(),
    error_kind=st.sampled_from([None, "unknown_tool", "invalid_arguments", "tool_exception", "timeout", "denied"]),
    exception=st.none(),
    duration=st.floats(0, 100),
)


@settings(max_examples=40, deadline=None)
@given(
    conversation=st.lists(messages(), max_size=4),
    output=st.none() | st.text() | st.builds(Refund, amount=st.floats(allow_nan=False, allow_infinity=False)),
    usage=st.builds(
        RunUsage,
        prompt_tokens=st.integers(0, 10**6),
        completion_tokens=st.integers(0, 10**6),
        requests=st.integers(0, 100),
        tool_calls=st.integers(0, 100),
    ),
    models_used=st.lists(st.sampled_from(["mistral-large-latest", "mistral-small-latest"]), max_size=3),
    steps=st.integers(0, 50),
    calls=st.lists(outcomes, max_size=3),
    pending=st.lists(st.builds(PendingCall, st.text(), st.text(), st.text()), max_size=2),
    finish_reason=st.none() | st.sampled_from(["stop", "length", "tool_calls"]),
)
def test_a_run_result_round_trips_through_json(
    conversation: list[ChatMessage],
    output: Any,
    usage: RunUsage,
    steps: int,
    calls: list[ToolOutcome],
    pending: list[PendingCall],
    finish_reason: str | None,
    models_used: list[str],
) -> None:
    result: RunResult[Any] = RunResult(
        output=output, messages=conversation, usage=usage, steps=steps, tool_calls=calls,
        finish_reason=finish_reason, new_message_index=len(conversation) // 2, pending=pending,
        models_used=models_used,
    )  # fmt: skip
    back = RunResult.from_json(result.to_json(), output_type=Refund if isinstance(output, Refund) else None)
    assert back == result
    assert back.new_messages == result.new_messages and back.paused == result.paused


def test_bad_json_is_a_clear_value_error() -> None:
    with pytest.raises(ValueError, match="JSON array"):
        messages_from_json('{"role": "user"}')
    with pytest.raises(ValueError, match="role"):
        messages_from_json('[{"content": "no role"}]')
    with pytest.raises(ValueError, match=r"RunResult\.to_json"):
        RunResult.from_json(json.dumps([1, 2]))
