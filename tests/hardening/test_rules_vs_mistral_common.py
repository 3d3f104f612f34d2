"""Our request rules against independent judges: the tool-schema check against ``jsonschema``'s Draft 7
meta-schema check (what mistral-common runs), and the content rules the issue found too lax."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mistral_agents.testing import check_chat_request
from mistral_agents.testing._judge import mistral_common_verdict
from mistral_agents.testing._rules import _schema_problem

KEYWORDS = [
    "type", "enum", "const", "required", "properties", "patternProperties", "definitions", "items", "additionalItems",
    "additionalProperties", "allOf", "anyOf", "oneOf", "not", "if", "then", "else", "contains", "propertyNames",
    "dependencies", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength",
    "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "pattern", "format", "title",
    "description", "uniqueItems", "readOnly", "examples", "default", "$comment", "$defs", "contentMediaType",
]  # fmt: skip
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.floats(-2, 2, allow_nan=False), st.sampled_from(
        ["object", "string", "integer", "number", "array", "boolean", "null", "any", "a", "[", "^x$", ""]
    )
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from([*KEYWORDS, "x", "y"]), inner, max_size=3)
    ),
    max_leaves=12,
)
schemas = st.dictionaries(st.sampled_from(KEYWORDS), values, max_size=4)


def draft7_accepts(schema: Any) -> bool:
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError:
        return False
    return True


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(schema=st.one_of(schemas, values))
def test_the_tool_schema_check_agrees_with_the_draft7_meta_schema(schema: Any) -> None:
    assert (_schema_problem(schema) is None) == draft7_accepts(schema), (schema, _schema_problem(schema))


def body(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": "mistral-large-latest", "messages": list(messages), **fields}


USER = {"role": "user", "content": "Hi"}
CALL = {
    "role": "assistant",
    "content": "",
    "tool_calls": [{"id": "abcdefghi", "function": {"name": "f", "arguments": "{}"}}],
}
IMAGE = {"type": "image_url", "image_url": "https://example.com/a.png"}
LAX = [
    pytest.param(body({"role": "user", "content": [{"type": "video", "video": "x"}]}), id="unknown-piece-type"),
    pytest.param(body({"role": "user", "content": [{"type": "text"}]}), id="text-piece-without-text"),
    pytest.param(body({"role": "user", "content": [{"type": "text", "text": 5}]}), id="text-piece-not-text"),
    pytest.param(body({"role": "user", "content": [{"text": "a"}]}), id="piece-without-type"),
    pytest.param(body({"role": "system", "content": [IMAGE]}, USER), id="image-in-system"),
    pytest.param(body(USER, {"role": "assistant", "content": [IMAGE]}, USER), id="image-in-assistant"),
    pytest.param(
        body(USER, CALL, {"role": "tool", "tool_call_id": "abcdefghi", "content": [IMAGE]}), id="image-in-tool"
    ),
    pytest.param(body({"role": "user", "content": None}), id="null-user-content"),
    pytest.param(
        body(USER, CALL, {"role": "tool", "tool_call_id": "abcdefghi", "content": None}), id="null-tool-content"
    ),
    pytest.param(
        body(USER, tools=[{"type": "function", "function": {"name": "f", "parameters": {"enum": 5}}}]), id="enum-5"
    ),
    pytest.param(
        body(USER, tools=[{"type": "function", "function": {"name": "f", "parameters": {"minLength": -1}}}]),
        id="negative-minLength",
    ),
    pytest.param(
        body(USER, tools=[{"type": "function", "function": {"name": "f", "parameters": {"pattern": "("}}}]),
        id="bad-regex",
    ),
]
THINKING = [{"type": "thinking", "thinking": "hm"}, {"type": "text", "text": "a"}]
FINE = [
    pytest.param(body({"role": "user", "content": [{"type": "text", "text": "a"}, IMAGE]}), id="text-and-image"),
    pytest.param(
        body({"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://e/a.png"}}]}),
        id="image-object",
    ),
    pytest.param(body(USER, {"role": "assistant", "content": THINKING}, USER), id="thinking-in-assistant"),
    pytest.param(
        body(USER, CALL, {"role": "tool", "tool_call_id": "abcdefghi", "content": [{"type": "text", "text": "x"}]}),
        id="text-piece-in-tool",
    ),
]


@pytest.mark.parametrize("request_body", LAX)
def test_what_mistral_common_rejects_we_reject(request_body: dict[str, Any]) -> None:
    assert mistral_common_verdict(request_body) is not None
    assert check_chat_request(request_body) is not None


@pytest.mark.parametrize("request_body", FINE)
def test_what_mistral_common_accepts_we_accept(request_body: dict[str, Any]) -> None:
    assert mistral_common_verdict(request_body) is None
    assert check_chat_request(request_body) is None
