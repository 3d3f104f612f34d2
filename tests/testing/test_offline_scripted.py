"""Scripted replies, policies, errors and faults, auth, and request recording."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pytest

from mistral_agents.testing import OfflineModel, OfflineTransport, Reply

from .helpers import MODEL


def chat_body(text: str = "Hi", **fields: Any) -> dict[str, Any]:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}], **fields}


def post(model: OfflineModel, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(transport=OfflineTransport(model), base_url="http://offline") as client:
        return client.post("/v1/chat/completions", json=body or chat_body(), headers=headers)


def content(response: httpx.Response) -> Any:
    return response.json()["choices"][0]["message"]["content"]


def test_the_script_is_consumed_in_order_then_fails_loudly() -> None:
    model = OfflineModel(script=["first", Reply.text("second")])
    assert content(post(model)) == "first"
    assert content(post(model)) == "second"
    exhausted = post(model)
    assert exhausted.status_code == 400  # not retryable: a test that overruns its script fails at once
    assert "script exhausted" in exhausted.json()["message"]
    assert model.remaining == 0


def test_replies_can_be_added_later() -> None:
    model = OfflineModel(script=[])
    model.add("late")
    assert content(post(model)) == "late"


def test_a_rejected_request_does_not_consume_the_script() -> None:
    model = OfflineModel(script=["only"])
    assert post(model, chat_body(seed=1)).status_code == 422
    assert content(post(model)) == "only"


def test_scripted_tool_call_with_given_and_generated_ids() -> None:
    model = OfflineModel(
        script=[
            Reply.tool_call("lookup", '{"q": "x"}', id="abcDEF123"),
            Reply.tool_calls([("a", {"n": 1}), ("b", {"n": 2})]),
        ]
    )
    [given] = post(model).json()["choices"][0]["message"]["tool_calls"]
    assert given["id"] == "abcDEF123" and given["function"]["arguments"] == '{"q": "x"}'
    generated = post(model).json()["choices"][0]["message"]["tool_calls"]
    assert [json.loads(c["function"]["arguments"]) for c in generated] == [{"n": 1}, {"n": 2}]
    assert len({c["id"] for c in generated}) == 2


def test_finish_reason_and_usage_overrides() -> None:
    usage = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    response = post(OfflineModel(script=[Reply.text("x", finish_reason="model_length", usage=usage)]))
    assert response.json()["choices"][0]["finish_reason"] == "model_length"
    assert response.json()["usage"] == usage


def test_a_policy_sees_every_request_body() -> None:
    seen: list[dict[str, Any]] = []

    def policy(request: dict[str, Any]) -> str:
        seen.append(request)
        return f"{len(request['messages'])} message(s)"

    model = OfflineModel(policy=policy)
    assert content(post(model, chat_body(temperature=0.2))) == "1 message(s)"
    assert seen[0]["temperature"] == 0.2


def test_script_and_policy_are_exclusive() -> None:
    with pytest.raises(ValueError, match="either"):
        OfflineModel(script=["x"], policy=lambda request: "y")


@pytest.mark.parametrize(
    ("reply", "status", "body"),
    [
        (
            Reply.error(429, {"message": "Requests rate limit exceeded"}, headers={"Retry-After": "2"}),
            429,
            b'{"message": "Requests rate limit exceeded"}',
        ),
        (Reply.error(503, "upstream unavailable"), 503, b"upstream unavailable"),
        (
            Reply.raw(502, b"<html><body>Bad Gateway</body></html>", "text/html"),
            502,
            b"<html><body>Bad Gateway</body></html>",
        ),
        (Reply.raw(200, b'{"choices": [', "application/json"), 200, b'{"choices": ['),
    ],
)
def test_errors_and_raw_bodies_are_sent_as_given(reply: Reply, status: int, body: bytes) -> None:
    response = post(OfflineModel(script=[reply]))
    assert response.status_code == status
    assert response.content == body
    if status == 429:
        assert response.headers["retry-after"] == "2"
    if status == 502:
        assert response.headers["content-type"] == "text/html"


def test_an_error_reply_streams_no_sse() -> None:
    response = post(OfflineModel(script=[Reply.error(500, {"message": "boom"})]), chat_body(stream=True))
    assert response.status_code == 500 and response.json() == {"message": "boom"}


def test_disconnect_raises_a_transport_error() -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        post(OfflineModel(script=[Reply.disconnect()]))


def test_delay_holds_the_response() -> None:
    model = OfflineModel(script=[Reply.text("slow", delay=0.2)])
    started = time.perf_counter()
    post(model)
    assert time.perf_counter() - started >= 0.19


async def test_async_delays_do_not_block_the_event_loop() -> None:
    model = OfflineModel(script=[Reply.text("slow", delay=0.3)] * 5)
    spans: list[tuple[float, float]] = []

    async def timed_post(client: httpx.AsyncClient) -> httpx.Response:
        started = time.perf_counter()
        response = await client.post("/v1/chat/completions", json=chat_body())
        spans.append((started, time.perf_counter()))
        return response

    async with httpx.AsyncClient(transport=model.transport(), base_url="http://offline") as client:
        responses = await asyncio.gather(*(timed_post(client) for _ in range(5)))
    assert [r.status_code for r in responses] == [200] * 5
    assert max(start for start, _ in spans) < min(end for _, end in spans)  # all five were waiting at once


class TestAuth:
    def test_a_required_key_must_be_sent(self) -> None:
        model = OfflineModel(api_key="sk-secret")
        missing = post(model)
        assert missing.status_code == 401
        assert missing.json()["message"] == "Unauthorized" and missing.json()["request_id"]
        assert post(model, headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert post(model, headers={"Authorization": "Bearer sk-secret"}).status_code == 200
        assert [r.violation.status if r.violation else None for r in model.requests] == [401, 401, None]

    def test_without_a_key_anything_goes(self) -> None:
        model = OfflineModel()
        assert post(model).status_code == 200
        assert post(model, headers={"Authorization": "Bearer whatever"}).status_code == 200


class TestRecording:
    def test_requests_are_recorded_with_the_key_redacted(self) -> None:
        model = OfflineModel(api_key="sk-secret")
        post(model, chat_body("Hello"), headers={"Authorization": "Bearer sk-secret"})
        recorded = model.last_request
        assert recorded is not None
        assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
        assert recorded.headers["authorization"] == "Bearer <redacted>"
        assert recorded.json == chat_body("Hello")
        assert "sk-secret" not in repr(model.requests)
        assert model.chat_requests == [chat_body("Hello")]

    def test_rejections_list_what_the_hosted_api_would_refuse(self) -> None:
        model = OfflineModel()
        post(model)
        bad = {
            "model": MODEL,
            "messages": [{"role": "user", "content": "x"}, {"role": "tool", "content": "y", "tool_call_id": "abc"}],
        }
        response = post(model, bad)
        assert response.status_code == 400
        [rejected] = model.rejections
        assert rejected.json == bad
        assert rejected.violation is not None
        assert rejected.violation.message == "Not the same number of function calls and responses"

    def test_validation_can_be_switched_off(self) -> None:
        model = OfflineModel(script=["ok"], validate=False)
        assert post(model, chat_body(seed=1)).status_code == 200
        assert model.rejections == []

    async def test_recording_is_safe_under_concurrency(self) -> None:
        model = OfflineModel()
        async with httpx.AsyncClient(transport=model.transport(), base_url="http://offline") as client:
            await asyncio.gather(*(client.post("/v1/chat/completions", json=chat_body(f"n{i}")) for i in range(50)))
        assert sorted(r["messages"][0]["content"] for r in model.chat_requests) == sorted(f"n{i}" for i in range(50))


def test_malformed_json_is_a_422() -> None:
    model = OfflineModel()
    with httpx.Client(transport=model.transport(), base_url="http://offline") as client:
        response = client.post(
            "/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    assert response.json()["message"]["detail"][0]["type"] == "json_invalid"
