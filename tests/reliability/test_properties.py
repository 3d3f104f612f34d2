"""Property tests (hypothesis): the SSE decoder, tool-call delta merging, and error-body parsing."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_agents._errors import error_from_response
from mistral_agents._sse import SSEDecoder
from mistral_agents.exceptions import MistralAPIException
from mistral_agents.models.chat_completion import ChatCompletionStreamResponse
from mistral_agents.streaming import StreamAccumulator

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Event payloads: any text without line breaks (a data line cannot hold one), including non-ASCII.
payload = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"), min_size=0, max_size=40
).filter(lambda s: s != "")
newline = st.sampled_from(["\n", "\r\n", "\r"])


def frame(events: list[str], newlines: list[str], spaces: list[bool]) -> bytes:
    out = []
    for position, event in enumerate(events):
        nl = newlines[position % len(newlines)]
        space = " " if spaces[position % len(spaces)] else ""
        out.append(f"data:{space}{event}{nl}{nl}")
    return "".join(out).encode()


def decode_in_pieces(data: bytes, cuts: list[int]) -> list[str]:
    decoder = SSEDecoder()
    events: list[str] = []
    start = 0
    for cut in sorted(set(cuts)):
        events += decoder.feed(data[start:cut])
        start = cut
    events += decoder.feed(data[start:])
    events += decoder.flush()
    return events


@FAST
@given(
    events=st.lists(payload, min_size=1, max_size=8),
    newlines=st.lists(newline, min_size=1, max_size=3),
    spaces=st.lists(st.booleans(), min_size=1, max_size=3),
    data=st.data(),
)
def test_sse_decoding_does_not_depend_on_chunk_boundaries(
    events: list[str], newlines: list[str], spaces: list[bool], data: st.DataObject
) -> None:
    raw = frame(events, newlines, spaces)
    whole = decode_in_pieces(raw, [])
    cuts = data.draw(st.lists(st.integers(min_value=0, max_value=len(raw)), max_size=12))
    assert decode_in_pieces(raw, cuts) == whole
    byte_by_byte = decode_in_pieces(raw, list(range(len(raw))))
    assert byte_by_byte == whole
    assert len(whole) == len(events)
    # "data: x" and "data:x" both carry "x"; without the optional space a leading space of the payload is eaten.
    for got, (i, sent) in zip(whole, enumerate(events), strict=True):
        if spaces[i % len(spaces)]:
            assert got == sent
        else:
            assert got == (sent[1:] if sent.startswith(" ") else sent)


@FAST
@given(
    calls=st.lists(
        st.tuples(
            st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12),
            st.dictionaries(st.text(max_size=6), st.one_of(st.integers(), st.text(max_size=20)), max_size=4),
        ),
        min_size=1,
        max_size=5,
    ),
    data=st.data(),
)
def test_tool_call_deltas_merge_in_order_whatever_the_fragmentation(
    calls: list[tuple[str, dict[str, object]]], data: st.DataObject
) -> None:
    originals = [(f"id{index:07d}", name, json.dumps(args)) for index, (name, args) in enumerate(calls)]
    # Fragments per call: first the id/name opening, then pieces of the arguments.
    fragments: list[list[dict[str, object]]] = []
    for index, (call_id, name, arguments) in enumerate(originals):
        cuts = sorted(set(data.draw(st.lists(st.integers(0, len(arguments)), max_size=6))))
        pieces = [arguments[a:b] for a, b in zip([0, *cuts], [*cuts, len(arguments)], strict=True)]
        opening = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        fragments.append([opening] + [{"index": index, "function": {"arguments": p}} for p in pieces if p])
    # Interleave the calls' fragments randomly, keeping each call's own fragments in order.
    queues = [list(f) for f in fragments]
    accumulator = StreamAccumulator()
    while any(queues):
        live = [q for q in queues if q]
        queue = data.draw(st.sampled_from(live))
        batch = [queue.pop(0)]
        # Sometimes several calls' fragments share one delta.
        for other in live:
            if other is not queue and other and data.draw(st.booleans()):
                batch.append(other.pop(0))
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                 "choices": [{"index": 0, "delta": {"tool_calls": batch}, "finish_reason": None}]}  # fmt: skip
        accumulator.add(ChatCompletionStreamResponse.model_validate(chunk))
    merged = accumulator.message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in merged] == originals


@settings(max_examples=300, deadline=None)
@given(
    status=st.integers(min_value=100, max_value=999),
    headers=st.dictionaries(
        st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20),
        st.text(max_size=40),
        max_size=5,
    ),
    content=st.one_of(
        st.binary(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
            ),
            max_leaves=20,
        ).map(lambda value: json.dumps(value).encode()),
        st.fixed_dictionaries(
            {},
            optional={
                "message": st.one_of(
                    st.text(max_size=30),
                    st.integers(),
                    st.lists(st.text(max_size=5), max_size=3),
                    st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3),
                ),
                "detail": st.one_of(
                    st.text(max_size=30),
                    st.lists(
                        st.dictionaries(
                            st.sampled_from(["loc", "msg", "type"]), st.text(max_size=8) | st.lists(st.text(max_size=4))
                        )
                    ),
                ),
                "type": st.one_of(st.none(), st.text(max_size=10), st.integers()),
                "code": st.one_of(st.none(), st.text(max_size=10), st.integers()),
                "object": st.just("error"),
            },
        ).map(lambda value: json.dumps(value).encode()),
    ),
)
def test_error_body_parsing_never_raises(status: int, headers: dict[str, str], content: bytes) -> None:
    error = error_from_response(status, headers, content)
    assert isinstance(error, MistralAPIException)
    assert error.status_code == status
    assert str(error).startswith(str(status))
    assert len(str(error)) < 2000
