"""What goes on the wire: URLs, headers, and bodies with only the fields the caller set."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from mistral_agents import (
    ChatMessage,
    Function,
    MistralAsyncClient,
    MistralClient,
    MistralException,
    ResponseFormat,
    ResponseFormats,
    ToolChoice,
)

from .helpers import KEY, Recorder, completion


def make(recorder: Recorder, **kwargs: Any) -> MistralClient:
    kwargs.setdefault("api_key", KEY)
    return MistralClient(transport=httpx.MockTransport(recorder), **kwargs)


def test_minimal_chat_sends_only_model_and_messages() -> None:
    rec = Recorder(httpx.Response(200, json=completion("Paris.")))
    with make(rec) as client:
        response = client.chat("mistral-large-latest", [ChatMessage(role="user", content="Capital of France?")])
    assert response.choices[0].message.content == "Paris."
    assert rec.bodies == [
        {"model": "mistral-large-latest", "messages": [{"role": "user", "content": "Capital of France?"}]}
    ]
    request = rec.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.mistral.ai/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    assert request.headers["accept"] == "application/json"
    assert request.headers["content-type"] == "application/json"


def test_every_parameter_is_sent_under_its_api_name() -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    with make(rec) as client:
        client.chat(
            "m",
            [{"role": "user", "content": "hi"}],
            temperature=0.3, top_p=0.9, max_tokens=64, random_seed=7, safe_prompt=True, stop=["\n"],
            parallel_tool_calls=False, presence_penalty=0.1, frequency_penalty=0.2, n=2,
            prediction={"type": "content", "content": "x"},
        )  # fmt: skip
    body = rec.bodies[0]
    assert body == {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 64,
        "random_seed": 7,
        "safe_prompt": True,
        "stop": ["\n"],
        "parallel_tool_calls": False,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "n": 2,
        "prediction": {"type": "content", "content": "x"},
    }


@pytest.mark.parametrize(
    ("endpoint", "url"),
    [
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://127.0.0.1:8000/", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/chat/completions"),
        ("http://localhost:11434/v1/", "http://localhost:11434/v1/chat/completions"),
    ],
)
def test_endpoint_may_include_or_omit_v1(endpoint: str, url: str) -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    with make(rec, api_key=None, endpoint=endpoint) as client:
        client.chat("m", [{"role": "user", "content": "hi"}])
    assert str(rec.requests[0].url) == url


def test_local_server_needs_no_key_and_gets_no_authorization_header() -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    with make(rec, api_key=None, endpoint="http://127.0.0.1:9") as client:
        client.chat("m", [{"role": "user", "content": "hi"}])
    assert "authorization" not in rec.requests[0].headers


def test_official_endpoint_without_key_is_a_clear_error() -> None:
    with pytest.raises(MistralException, match="MISTRAL_API_KEY"):
        MistralClient()


def test_key_falls_back_to_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    rec = Recorder(httpx.Response(200, json=completion()))
    with MistralClient(transport=httpx.MockTransport(rec)) as client:
        client.chat("m", [{"role": "user", "content": "hi"}])
    assert rec.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_repr_never_shows_the_key() -> None:
    client = MistralClient(api_key=KEY)
    assert KEY not in repr(client)
    assert KEY not in repr(client._settings)
    assert "api.mistral.ai" in repr(client)
    client.close()


def test_seed_era_tool_specs_with_function_models_are_serialised() -> None:
    params = {"type": "object", "properties": {"transaction_id": {"type": "string"}}, "required": ["transaction_id"]}
    tools = [
        {"type": "function", "function": Function(name="retrieve_payment_status", description="d", parameters=params)}
    ]
    rec = Recorder(httpx.Response(200, json=completion()))
    with make(rec) as client:
        client.chat("m", [{"role": "user", "content": "hi"}], tools=tools, tool_choice=ToolChoice.any)
    body = rec.bodies[0]
    assert body["tools"] == [
        {"type": "function", "function": {"name": "retrieve_payment_status", "description": "d", "parameters": params}}
    ]
    assert body["tool_choice"] == "any"


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", "auto"),
        ("any", "any"),
        ("none", "none"),
        ("required", "required"),
        ("get_weather", {"type": "function", "function": {"name": "get_weather"}}),
        (
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_weather"}},
        ),
    ],
)
def test_tool_choice_forms(choice: Any, wire: Any) -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    with make(rec) as client:
        client.chat("m", [{"role": "user", "content": "hi"}], tool_choice=choice)
    assert rec.bodies[0]["tool_choice"] == wire


class Answer(BaseModel):
    """A city and its country."""

    city: str
    country: str


def test_response_format_forms() -> None:
    rec = Recorder(httpx.Response(200, json=completion("{}")))
    with make(rec) as client:
        client.chat("m", [{"role": "user", "content": "hi"}], response_format={"type": "json_object"})
        client.chat(
            "m", [{"role": "user", "content": "hi"}], response_format=ResponseFormat(type=ResponseFormats.json_object)
        )
        client.chat("m", [{"role": "user", "content": "hi"}], response_format=Answer)
    first, second, third = (b["response_format"] for b in rec.bodies)
    assert first == second == {"type": "json_object"}
    assert third["type"] == "json_schema"
    schema = third["json_schema"]
    assert schema["name"] == "Answer"
    assert schema["strict"] is True
    assert schema["description"] == "A city and its country."
    assert schema["schema"]["required"] == ["city", "country"]
    assert schema["schema"]["additionalProperties"] is False


def test_seed_tool_message_without_id_gets_the_matching_call_id() -> None:
    """Seed-era code sends ChatMessage(role="tool", name=..., content=...) with no tool_call_id."""
    calls = [
        {"id": "AAAAAAAA1", "type": "function", "function": {"name": "status", "arguments": "{}"}},
        {"id": "BBBBBBBB2", "type": "function", "function": {"name": "date", "arguments": "{}"}},
    ]
    rec = Recorder(httpx.Response(200, json=completion(tool_calls=calls)), httpx.Response(200, json=completion()))
    with make(rec) as client:
        messages: list[Any] = [ChatMessage(role="user", content="hi")]
        response = client.chat("m", messages)
        messages.append(response.choices[0].message)
        messages.append(ChatMessage(role="tool", name="date", content="2021"))
        messages.append({"role": "tool", "name": "status", "content": "Paid"})
        client.chat("m", messages)
    sent = rec.bodies[1]["messages"]
    assert sent[1]["tool_calls"][0] == {
        "id": "AAAAAAAA1",
        "type": "function",
        "function": {"name": "status", "arguments": "{}"},
    }
    assert sent[2] == {"role": "tool", "name": "date", "content": "2021", "tool_call_id": "BBBBBBBB2"}
    assert sent[3] == {"role": "tool", "name": "status", "content": "Paid", "tool_call_id": "AAAAAAAA1"}


def test_dict_messages_with_object_arguments_are_sent_as_json_strings() -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "tool_calls": [{"id": "abcdefgh1", "function": {"name": "f", "arguments": {"a": 1}}}]},
        {"role": "tool", "tool_call_id": "abcdefgh1", "content": "ok"},
    ]
    with make(rec) as client:
        client.chat("m", messages)
    call = rec.bodies[0]["messages"][1]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"a": 1}


def test_bad_arguments_are_clear_errors_before_any_request() -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    with make(rec) as client:
        with pytest.raises(TypeError, match="messages must be a list"):
            client.chat("m", "hello")  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="needs a 'role'"):
            client.chat("m", [{"content": "hello"}])
        with pytest.raises(ValueError, match="model must be"):
            client.chat("", [{"role": "user", "content": "hi"}])
        with pytest.raises(TypeError, match="input must be"):
            client.embeddings("mistral-embed", [1, 2])  # type: ignore[list-item]
    assert rec.requests == []


def test_response_keeps_unknown_fields_and_any_finish_reason() -> None:
    body = completion("x", service_tier="fast")
    body["choices"][0]["finish_reason"] = "content_filter"
    rec = Recorder(httpx.Response(200, json=body))
    with make(rec) as client:
        response = client.chat("m", [{"role": "user", "content": "hi"}])
    assert response.choices[0].finish_reason == "content_filter"
    assert response.model_extra == {"service_tier": "fast"}


def test_embeddings_and_models() -> None:
    embedding = {
        "id": "e",
        "object": "list",
        "data": [{"object": "embedding", "embedding": [0.1, 0.2], "index": 0}],
        "model": "mistral-embed",
        "usage": {"prompt_tokens": 2, "total_tokens": 2, "completion_tokens": 0},
    }
    models = {
        "object": "list",
        "data": [
            {
                "id": "mistral-small-latest",
                "object": "model",
                "created": 1,
                "owned_by": "mistralai",
                "capabilities": {"function_calling": True},
            }
        ],
    }
    rec = Recorder(httpx.Response(200, json=embedding), httpx.Response(200, json=models))
    with make(rec) as client:
        emb = client.embeddings("mistral-embed", ["hello"])
        listed = client.list_models()
    assert emb.data[0].embedding == [0.1, 0.2]
    assert listed.data[0].id == "mistral-small-latest"
    assert listed.data[0].capabilities == {"function_calling": True}
    assert rec.bodies == [{"model": "mistral-embed", "input": ["hello"]}]
    assert rec.requests[1].method == "GET"
    assert rec.requests[1].url.path == "/v1/models"


async def test_async_client_sends_the_same_request() -> None:
    rec = Recorder(httpx.Response(200, json=completion("Async hi")))
    async with MistralAsyncClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        response = await client.chat("m", [ChatMessage(role="user", content="hi")], temperature=0.5)
        emb_rec = client  # the same client serves every method
        assert emb_rec is client
    assert response.choices[0].message.content == "Async hi"
    assert rec.bodies == [{"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0.5}]
    assert rec.requests[0].headers["authorization"] == f"Bearer {KEY}"


async def test_flavours_convert_with_the_same_settings() -> None:
    rec = Recorder(httpx.Response(200, json=completion("converted")))
    transport = httpx.MockTransport(rec)
    sync = MistralClient(api_key=KEY, endpoint="http://127.0.0.1:1", max_retries=2, transport=transport)
    async_client = sync.as_async()
    assert (async_client.endpoint, async_client.max_retries) == ("http://127.0.0.1:1", 2)
    response = await async_client.chat("m", [{"role": "user", "content": "hi"}])
    assert response.choices[0].message.content == "converted"
    back = async_client.as_sync()
    assert back.chat("m", [{"role": "user", "content": "hi"}]).choices[0].message.content == "converted"
    assert all(r.headers["authorization"] == f"Bearer {KEY}" for r in rec.requests)
    await async_client.close()
    back.close()
    sync.close()


def test_caller_owned_http_client_is_used_and_left_open() -> None:
    rec = Recorder(httpx.Response(200, json=completion()))
    http = httpx.Client(transport=httpx.MockTransport(rec))
    with MistralClient(api_key=KEY, http_client=http) as client:
        client.chat("m", [{"role": "user", "content": "hi"}])
    assert len(rec.requests) == 1
    assert not http.is_closed
    http.close()
