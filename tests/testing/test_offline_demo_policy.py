"""The built-in policy over the raw wire: the seed's payment-status conversation and its variations."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from mistral_agents.testing import OfflineModel

from .helpers import MODEL, PAYMENT_TOOLS, tool_call_turn

PAYMENTS = {"T1001": "Paid", "T1002": "Unpaid", "T1003": "Paid"}
DATES = {"T1001": "2021-10-05", "T1002": "2021-10-06", "T1003": "2021-10-07"}


@pytest.fixture
def model() -> OfflineModel:
    return OfflineModel()


@pytest.fixture
def client(model: OfflineModel) -> Iterator[httpx.Client]:
    with httpx.Client(transport=model.transport(), base_url="http://offline") as client:
        yield client


def chat(client: httpx.Client, messages: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    response = client.post("/v1/chat/completions", json={"model": MODEL, "messages": messages, **fields})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def run_tool(call: dict[str, Any]) -> dict[str, Any]:
    arguments = json.loads(call["function"]["arguments"])
    table = PAYMENTS if call["function"]["name"] == "retrieve_payment_status" else DATES
    key = "status" if table is PAYMENTS else "date"
    content = json.dumps({key: table[arguments["transaction_id"]]})
    return {"role": "tool", "name": call["function"]["name"], "content": content, "tool_call_id": call["id"]}


def test_the_seed_payment_conversation_end_to_end(client: httpx.Client, model: OfflineModel) -> None:
    messages = [{"role": "user", "content": "What's the status of my transaction?"}]
    first = chat(client, messages, tools=PAYMENT_TOOLS, tool_choice="auto")["choices"][0]
    assert first["message"]["tool_calls"] is None
    assert first["message"]["content"] == "Could you please provide your transaction id?"

    messages += [
        {"role": "assistant", "content": first["message"]["content"]},
        {"role": "user", "content": "My transaction ID is T1001."},
    ]
    second = chat(client, messages, tools=PAYMENT_TOOLS, tool_choice="auto")["choices"][0]
    assert second["finish_reason"] == "tool_calls"
    [call] = second["message"]["tool_calls"]
    assert call["function"]["name"] == "retrieve_payment_status"
    assert json.loads(call["function"]["arguments"]) == {"transaction_id": "T1001"}
    assert len(call["id"]) == 9 and call["id"].isalnum()

    messages += [tool_call_turn(second["message"]), run_tool(call)]
    final = chat(client, messages, tools=PAYMENT_TOOLS, tool_choice="auto")["choices"][0]
    assert final["finish_reason"] == "stop"
    assert final["message"]["content"] == "The status of transaction T1001 is Paid."
    assert model.rejections == []


def test_the_question_and_the_id_in_one_message_call_at_once(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "When was transaction T1002 paid?"}]
    [call] = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "retrieve_payment_date"
    assert json.loads(call["function"]["arguments"]) == {"transaction_id": "T1002"}


def test_two_topics_make_parallel_calls_with_distinct_ids(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "What is the status and the date of payment T1003?"}]
    message = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]
    calls = message["tool_calls"]
    assert [c["function"]["name"] for c in calls] == ["retrieve_payment_status", "retrieve_payment_date"]
    assert [c["index"] for c in calls] == [0, 1]
    assert len({c["id"] for c in calls}) == 2

    messages += [tool_call_turn(message), *(run_tool(c) for c in calls)]
    answer = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]["content"]
    assert answer == "The status of transaction T1003 is Paid. The date of transaction T1003 is 2021-10-07."


def test_parallel_tool_calls_false_makes_one_call(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "What is the status and the date of payment T1003?"}]
    message = chat(client, messages, tools=PAYMENT_TOOLS, parallel_tool_calls=False)["choices"][0]["message"]
    assert len(message["tool_calls"]) == 1


def test_ids_are_deterministic_and_differ_between_turns(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Status of T1001?"}]
    first = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]
    again = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]
    assert first == again
    messages += [tool_call_turn(first), run_tool(first["tool_calls"][0])]
    messages += [{"role": "assistant", "content": "Paid."}, {"role": "user", "content": "And the status of T1002?"}]
    later = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]["tool_calls"][0]
    assert json.loads(later["function"]["arguments"]) == {"transaction_id": "T1002"}
    assert later["id"] != first["tool_calls"][0]["id"]


def test_a_finished_topic_is_not_called_again(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Status of T1001?"}]
    message = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]
    messages += [
        tool_call_turn(message),
        run_tool(message["tool_calls"][0]),
        {"role": "assistant", "content": "It is paid."},
        {"role": "user", "content": "Thanks!"},
    ]
    reply = chat(client, messages, tools=PAYMENT_TOOLS)["choices"][0]["message"]
    assert reply["tool_calls"] is None
    assert reply["content"].startswith("You're welcome")


def test_tool_choice_none_answers_in_words(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Status of T1001?"}]
    message = chat(client, messages, tools=PAYMENT_TOOLS, tool_choice="none")["choices"][0]["message"]
    assert message["tool_calls"] is None and message["content"]


@pytest.mark.parametrize("choice", ["any", "required"])
def test_forced_tool_choice_always_calls(client: httpx.Client, choice: str) -> None:
    messages = [{"role": "user", "content": "Hello there"}]
    message = chat(client, messages, tools=PAYMENT_TOOLS, tool_choice=choice)["choices"][0]["message"]
    [call] = message["tool_calls"]
    assert call["function"]["name"] == "retrieve_payment_status"
    assert "transaction_id" in json.loads(call["function"]["arguments"])


def test_a_named_tool_choice_calls_that_tool(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "What's the status of T1001?"}]
    named = {"type": "function", "function": {"name": "retrieve_payment_date"}}
    [call] = chat(client, messages, tools=PAYMENT_TOOLS, tool_choice=named)["choices"][0]["message"]["tool_calls"]
    assert call["function"]["name"] == "retrieve_payment_date"
    assert json.loads(call["function"]["arguments"]) == {"transaction_id": "T1001"}


def test_other_parameter_types_are_filled_from_the_user_words(client: httpx.Client) -> None:
    tool = {
        "type": "function",
        "function": {
            "name": "get_weather_forecast",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "days": {"type": "integer"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city", "days", "unit"],
            },
        },
    }
    messages = [{"role": "user", "content": "What's the weather in Paris for the next 3 days, in celsius?"}]
    [call] = chat(client, messages, tools=[tool])["choices"][0]["message"]["tool_calls"]
    assert json.loads(call["function"]["arguments"]) == {"city": "Paris", "days": 3, "unit": "celsius"}


def test_json_object_mode_answers_valid_json(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Give me a JSON greeting."}]
    content = chat(client, messages, response_format={"type": "json_object"})["choices"][0]["message"]["content"]
    assert isinstance(json.loads(content), dict)


def test_json_schema_mode_answers_an_instance_of_the_schema(client: httpx.Client) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    schema = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer", "minimum": 18},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "kind": {"enum": ["cat", "dog"]},
            "owner": {"$ref": "#/$defs/Owner"},
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
        },
        "required": ["name", "age", "tags", "kind", "owner"],
        "$defs": {"Owner": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}},
    }
    fmt = {"type": "json_schema", "json_schema": {"name": "Pet", "schema": schema, "strict": True}}
    content = chat(client, [{"role": "user", "content": "A pet as JSON"}], response_format=fmt)
    instance = json.loads(content["choices"][0]["message"]["content"])
    jsonschema.validate(instance, schema)


def test_without_tools_it_echoes_deterministically(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "What is the best French cheese?"}]
    first = chat(client, messages)
    assert "What is the best French cheese?" in first["choices"][0]["message"]["content"]
    assert chat(client, messages) == first


def test_usage_is_deterministic_and_adds_up(client: httpx.Client) -> None:
    usage = chat(client, [{"role": "user", "content": "Hello"}])["usage"]
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_max_tokens_cuts_the_answer_with_finish_reason_length(client: httpx.Client) -> None:
    messages = [{"role": "user", "content": "Tell me a long story about cheese"}]
    choice = chat(client, messages, max_tokens=3)["choices"][0]
    assert choice["finish_reason"] == "length"
    assert len(choice["message"]["content"].split()) <= 3
