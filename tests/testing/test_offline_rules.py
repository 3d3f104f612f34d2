"""The hosted API's request rules: what it rejects, with which status and message — and what it accepts."""

from __future__ import annotations

import json
from typing import Any

import pytest

from mistral_agents.testing import check_chat_request, check_embeddings_request

from .helpers import MODEL, PAYMENT_TOOLS

STATUS_CALL = {
    "id": "D681PevKs",
    "type": "function",
    "function": {"name": "retrieve_payment_status", "arguments": '{"transaction_id": "T1001"}'},
}


def body(*messages: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": list(messages), **fields}


def user(text: str = "What's the status of my transaction T1001?") -> dict[str, Any]:
    return {"role": "user", "content": text}


def calling(*calls: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": "", "tool_calls": list(calls)}


def result(call_id: str = "D681PevKs", content: str = '{"status": "Paid"}') -> dict[str, Any]:
    return {"role": "tool", "name": "retrieve_payment_status", "content": content, "tool_call_id": call_id}


def test_the_seed_function_calling_walkthrough_is_accepted() -> None:
    transcript = body(
        user("What's the status of my transaction?"),
        {"role": "assistant", "content": "Could you please provide the transaction ID?"},
        user("My transaction ID is T1001."),
        calling(STATUS_CALL),
        result(),
        tools=PAYMENT_TOOLS,
        tool_choice="auto",
    )
    assert check_chat_request(transcript) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"temperature": 0.7, "top_p": 1, "max_tokens": 64, "random_seed": 42, "safe_prompt": False},
        {"stream": True, "stop": ["\n"], "n": 2, "presence_penalty": 0.5, "frequency_penalty": -0.5},
        {"response_format": {"type": "json_object"}, "parallel_tool_calls": False},
        {"tools": PAYMENT_TOOLS, "tool_choice": {"type": "function", "function": {"name": "retrieve_payment_date"}}},
        {"tools": PAYMENT_TOOLS, "tool_choice": "any"},
        {"tools": PAYMENT_TOOLS, "tool_choice": "required"},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}}}},
    ],
)
def test_every_documented_field_is_accepted(fields: dict[str, Any]) -> None:
    assert check_chat_request(body(user(), **fields)) is None


def test_system_prompt_content_chunks_and_prefix_are_accepted() -> None:
    request = body(
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
        {"role": "assistant", "content": "Hello", "prefix": True},
    )
    assert check_chat_request(request) is None


def test_arguments_may_be_an_object() -> None:
    call = {**STATUS_CALL, "function": {"name": "retrieve_payment_status", "arguments": {"transaction_id": "T1001"}}}
    assert check_chat_request(body(user(), calling(call), result())) is None


@pytest.mark.parametrize("field", ["seed", "stream_options", "logprobs", "user"])
def test_unknown_top_level_field_is_a_422_extra_forbidden(field: str) -> None:
    violation = check_chat_request(body(user(), **{field: 1}))
    assert violation is not None
    assert violation.status == 422
    assert violation.body == {
        "object": "error",
        "message": {
            "detail": [
                {"type": "extra_forbidden", "loc": ["body", field], "msg": "Extra inputs are not permitted", "input": 1}
            ]
        },
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    assert violation.message == f"Extra inputs are not permitted (body.{field})"


def test_unknown_message_field_is_located_in_the_message() -> None:
    violation = check_chat_request(body({"role": "user", "content": "Hi", "name": "bob"}))
    assert violation is not None and violation.status == 422
    assert violation.body["message"]["detail"][0]["loc"] == ["body", "messages", 0, "name"]


def test_every_shape_problem_is_reported_at_once() -> None:
    violation = check_chat_request({"messages": "hi", "temperature": 2, "n": 0, "tool_choice": "sometimes"})
    assert violation is not None and violation.status == 422
    kinds = {(d["type"], tuple(d["loc"])) for d in violation.body["message"]["detail"]}
    assert kinds == {
        ("missing", ("body", "model")),
        ("list_type", ("body", "messages")),
        ("less_than_equal", ("body", "temperature")),
        ("greater_than_equal", ("body", "n")),
        ("enum", ("body", "tool_choice")),
    }


@pytest.mark.parametrize(
    "fields",
    [
        {"temperature": -0.1},
        {"top_p": 1.5},
        {"max_tokens": "many"},
        {"random_seed": -1},
        {"stream": "yes"},
        {"tool_choice": {"type": "function"}},
        {"response_format": {"type": "yaml"}},
        {"response_format": {"type": "json_schema", "json_schema": {"schema": {}}}},
        {"tools": [{"type": "retrieval", "function": {"name": "x"}}]},
        {"tools": [{"type": "function", "function": {"name": "x", "parameters": "none"}}]},
    ],
)
def test_wrong_types_and_ranges_are_422(fields: dict[str, Any]) -> None:
    violation = check_chat_request(body(user(), **fields))
    assert violation is not None and violation.status == 422


def test_a_message_with_an_unknown_role_is_422() -> None:
    violation = check_chat_request(body({"role": "developer", "content": "x"}))
    assert violation is not None and violation.status == 422


def expect_400(request: dict[str, Any], message: str, code: str | None = None) -> dict[str, Any]:
    violation = check_chat_request(request)
    assert violation is not None, "the hosted API rejects this request"
    assert violation.status == 400
    assert violation.body["object"] == "error"
    assert violation.body["message"] == message
    assert violation.body["param"] is None
    if code is not None:
        assert violation.body["code"] == code
    return violation.body


def test_user_right_after_tool_is_rejected_like_the_hosted_api() -> None:
    error = expect_400(
        body(user(), calling(STATUS_CALL), result(), user("thanks")), "Unexpected role 'user' after role 'tool'", "3230"
    )
    assert error["type"] == "invalid_request_message_order"


def test_system_right_after_assistant_is_rejected() -> None:
    expect_400(
        body(user(), {"role": "assistant", "content": "Hi"}, {"role": "system", "content": "x"}, user()),
        "Unexpected role 'system' after role 'assistant'",
        "3230",
    )


def test_tool_message_id_must_be_nine_alphanumerics() -> None:
    call = {**STATUS_CALL, "id": "call_abc123"}
    error = expect_400(
        body(user(), calling(call), result("call_abc123")),
        "Tool call id was call_abc123 but must be a-z, A-Z, 0-9, with a length of 9.",
        "3280",
    )
    assert error["type"] == "invalid_function_call"


def test_the_seed_era_null_id_is_rejected() -> None:
    call = {**STATUS_CALL, "id": "null"}
    expect_400(
        body(user(), calling(call), result("null")),
        "Tool call id was null but must be a-z, A-Z, 0-9, with a length of 9.",
        "3280",
    )


def test_tool_message_without_id_is_rejected() -> None:
    seed_style = {"role": "tool", "name": "retrieve_payment_status", "content": '{"status": "Paid"}'}
    expect_400(body(user(), calling(STATUS_CALL), seed_style), "Tool call id has to be defined.")


def test_more_calls_than_results_is_rejected() -> None:
    second = {**STATUS_CALL, "id": "Bb2345678"}
    expect_400(
        body(user(), calling(STATUS_CALL, second), result()),
        "Not the same number of function calls and responses",
        "3230",
    )


def test_a_result_without_a_call_is_rejected() -> None:
    expect_400(
        body(user(), {"role": "assistant", "content": "Checking"}, result()),
        "Not the same number of function calls and responses",
    )


def test_a_result_must_answer_an_existing_call() -> None:
    expect_400(
        body(user(), calling(STATUS_CALL), result("Zz9876543")),
        "Tool call id Zz9876543 does not match any tool call of the preceding assistant message.",
        "3280",
    )


def test_a_call_answered_twice_is_rejected() -> None:
    second = {**STATUS_CALL, "id": "Bb2345678"}
    expect_400(
        body(user(), calling(STATUS_CALL, second), result(), result()),
        "Tool call id D681PevKs was answered more than once.",
    )


def test_an_empty_assistant_message_is_rejected() -> None:
    expect_400(
        body(user(), {"role": "assistant", "content": ""}, user()),
        "Assistant message must have either content or tool_calls.",
    )


def test_a_system_message_needs_content() -> None:
    expect_400(body({"role": "system", "content": None}, user()), "System prompt must have content")


def test_no_messages_is_rejected() -> None:
    expect_400(body(), "Conversation must have at least one message")


def test_the_conversation_starts_with_user_or_system() -> None:
    expect_400(
        body({"role": "assistant", "content": "Hi"}, user()),
        "Conversation must start with a user message or system message",
    )


def test_the_last_message_must_be_user_tool_or_a_prefix() -> None:
    expect_400(
        body(user(), {"role": "assistant", "content": "Hi"}),
        "Expected last role User or Tool (or Assistant with prefix True) for serving but got assistant",
    )


def test_a_prefix_assistant_must_be_last() -> None:
    expect_400(
        body(user(), {"role": "assistant", "content": "Hi", "prefix": True}, user()),
        "Assistant message with prefix True must be last message",
    )


@pytest.mark.parametrize("name", ["get weather", "x" * 65, "", "naïve"])
def test_function_names_must_match_the_pattern(name: str) -> None:
    tool = {"type": "function", "function": {"name": name, "parameters": {"type": "object", "properties": {}}}}
    expect_400(
        body(user(), tools=[tool]),
        f"Function name was {name} but must be a-z, A-Z, 0-9, or contain underscores and dashes,"
        " with a maximum length of 64.",
    )


def test_tool_call_names_are_checked_too() -> None:
    call = {**STATUS_CALL, "function": {"name": "payment.status", "arguments": "{}"}}
    violation = check_chat_request(body(user(), calling(call), result()))
    assert violation is not None and violation.status == 400
    assert str(violation.body["message"]).startswith("Function name was payment.status")


def test_at_most_128_tools() -> None:
    tools = [
        {"type": "function", "function": {"name": f"tool_{i}", "parameters": {"type": "object", "properties": {}}}}
        for i in range(129)
    ]
    violation = check_chat_request(body(user(), tools=tools))
    assert violation is not None and violation.status == 400
    assert check_chat_request(body(user(), tools=tools[:128])) is None


def test_parameters_must_be_a_valid_schema() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "dictionary"}}}
    violation = check_chat_request(body(user(), tools=[tool]))
    assert violation is not None and violation.status == 400
    assert str(violation.body["message"]).startswith("Invalid tool schema")


class TestOpenAICompatibleMode:
    def test_openai_style_requests_are_accepted(self) -> None:
        call = {**STATUS_CALL, "id": "call_abc123"}
        request = body(
            user(),
            calling(call),
            result("call_abc123"),
            user("thanks"),
            seed=7,
            stream_options={"include_usage": True},
            logprobs=False,
        )
        assert check_chat_request(request, openai_compatible=True) is None

    def test_results_must_still_answer_calls(self) -> None:
        violation = check_chat_request(body(user(), result("call_1")), openai_compatible=True)
        assert violation is not None and violation.status == 400

    def test_any_is_not_an_openai_tool_choice(self) -> None:
        violation = check_chat_request(body(user(), tools=PAYMENT_TOOLS, tool_choice="any"), openai_compatible=True)
        assert violation is not None and violation.status == 422


def test_embeddings_rules() -> None:
    assert check_embeddings_request({"model": "mistral-embed", "input": ["a", "b"]}) is None
    unknown = check_embeddings_request({"model": "mistral-embed", "input": "a", "dimensions": 3})
    assert unknown is not None and unknown.status == 422
    empty = check_embeddings_request({"model": "mistral-embed", "input": []})
    assert empty is not None and empty.status == 422


def test_violations_are_json_serialisable() -> None:
    violation = check_chat_request(body(user(), seed=object.__name__))
    assert violation is not None
    json.dumps(violation.body)
