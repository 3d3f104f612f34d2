"""Streamed tool calls whose fragments carry neither ``id`` nor ``index`` (some OpenAI-compatible servers)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_agents import ChatCompletionStreamResponse
from mistral_agents.streaming import StreamAccumulator


def _chunk(fragment: dict[str, Any]) -> ChatCompletionStreamResponse:
    return ChatCompletionStreamResponse.model_validate(
        {"id": "c", "model": "m", "choices": [{"index": 0, "delta": {"tool_calls": [fragment]}}]}
    )


def _merge(fragments: list[dict[str, Any]]) -> list[tuple[str, str]]:
    accumulator = StreamAccumulator()
    for fragment in fragments:
        accumulator.add(_chunk(fragment))
    return [(c.function.name, c.function.arguments) for c in accumulator.message.tool_calls or []]


def test_two_whole_calls_without_id_or_index_stay_two() -> None:
    merged = _merge(
        [
            {"function": {"name": "set_x", "arguments": '{"x": 1}'}},
            {"function": {"name": "set_y", "arguments": '{"y": 2}'}},
        ]
    )
    assert merged == [("set_x", '{"x": 1}'), ("set_y", '{"y": 2}')]


def test_two_whole_calls_to_the_same_tool_stay_two() -> None:
    merged = _merge(
        [{"function": {"name": "f", "arguments": '{"x": 1}'}}, {"function": {"name": "f", "arguments": "{}"}}]
    )
    assert merged == [("f", '{"x": 1}'), ("f", "{}")]


def test_a_repeated_name_on_an_unfinished_call_continues_it() -> None:
    merged = _merge(
        [{"function": {"name": "f", "arguments": '{"x": '}}, {"function": {"name": "f", "arguments": "1}"}}]
    )
    assert merged == [("f", '{"x": 1}')]


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    calls=st.lists(
        st.tuples(
            st.sampled_from(["status", "date", "refund", "a"]),
            st.dictionaries(st.text(max_size=5), st.one_of(st.integers(), st.text(max_size=12), st.none()), max_size=3),
        ),
        min_size=1,
        max_size=5,
    ),
    data=st.data(),
)
def test_calls_without_id_or_index_merge_whatever_the_fragmentation(
    calls: list[tuple[str, dict[str, object]]], data: st.DataObject
) -> None:
    originals = [(name, json.dumps(args)) for name, args in calls]
    fragments: list[dict[str, Any]] = []
    for name, arguments in originals:
        cuts = sorted(set(data.draw(st.lists(st.integers(1, len(arguments) - 1), max_size=5))))
        pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]
        repeat_name = data.draw(st.booleans())  # some servers repeat the name in every fragment
        empty_opening = data.draw(st.booleans())  # OpenAI style: the name first, with empty arguments
        if empty_opening:
            fragments.append({"type": "function", "function": {"name": name, "arguments": ""}})
        for position, piece in enumerate(pieces):
            named = repeat_name or (position == 0 and not empty_opening)
            fragments.append({"function": {"name": name, "arguments": piece} if named else {"arguments": piece}})
    assert _merge(fragments) == originals
