"""Every error body shape seen on the wire becomes a typed exception with a readable message."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

from mistral_agents import (
    AuthenticationError,
    BadRequestError,
    MistralAPIException,
    MistralAPIStatusException,
    MistralClient,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ResponseDecodeError,
    ServerError,
)
from mistral_agents._errors import error_from_response

from .helpers import KEY, Recorder, completion

EXTRA_FORBIDDEN = {
    "object": "error",
    "message": {"detail": [{"type": "extra_forbidden", "loc": ["body", "n"], "msg": "Extra inputs are not permitted"}]},
    "type": "invalid_request_error",
    "param": None,
    "code": None,
}


@pytest.mark.parametrize(
    ("status", "body", "cls", "message", "code"),
    [
        (
            422,
            EXTRA_FORBIDDEN,
            BadRequestError,
            "422 invalid_request_error: Extra inputs are not permitted (body.n)",
            None,
        ),
        (
            422,
            {
                **EXTRA_FORBIDDEN,
                "message": '{"detail":[{"loc":["body","seed"],"msg":"Extra inputs are not permitted"}]}',
            },
            BadRequestError,
            "422 invalid_request_error: Extra inputs are not permitted (body.seed)",
            None,
        ),
        (
            400,
            {
                "object": "error",
                "message": "Unexpected role 'user' after role 'tool'",
                "type": "invalid_request_message_order",
                "param": None,
                "code": "3230",
            },
            BadRequestError,
            "400 invalid_request_message_order: Unexpected role 'user' after role 'tool'",
            "3230",
        ),
        (401, {"detail": "Unauthorized"}, AuthenticationError, "401 Unauthorized", None),
        (401, {"message": "Unauthorized", "request_id": "req-9"}, AuthenticationError, "401 Unauthorized", None),
        (
            403,
            {"message": "Forbidden for this key"},
            PermissionDeniedError,
            "403 Forbidden: Forbidden for this key",
            None,
        ),
        (404, {"detail": "Model not found"}, NotFoundError, "404 Not Found: Model not found", None),
        (
            429,
            {"message": "Requests rate limit exceeded"},
            RateLimitError,
            "429 Too Many Requests: Requests rate limit exceeded",
            None,
        ),
        (
            429,
            {"object": "error", "message": "Rate limit exceeded", "type": "rate_limited", "code": 1300},
            RateLimitError,
            "429 rate_limited: Rate limit exceeded",
            1300,
        ),
        (
            500,
            {"error": {"message": "boom", "type": "server_error", "code": "x"}},
            ServerError,
            "500 server_error: boom",
            "x",
        ),
        (
            400,
            {"error": "model 'llama9' not found"},
            BadRequestError,
            "400 Bad Request: model 'llama9' not found",
            None,
        ),
        (418, ["odd", "list"], MistralAPIException, "418 I'm a Teapot: odd; list", None),
    ],
)
def test_error_body_shapes(status: int, body: Any, cls: type[Exception], message: str, code: Any) -> None:
    rec = Recorder(httpx.Response(status, json=body))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec), max_retries=0) as client:
        with pytest.raises(cls) as caught:
            client.chat("m", [{"role": "user", "content": "hi"}])
    error = caught.value
    assert isinstance(error, MistralAPIException)
    assert str(error) == message
    assert error.status_code == status
    assert error.code == code
    assert error.body == body


def test_html_page_from_a_proxy() -> None:
    page = b"<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"
    error = error_from_response(502, {"content-type": "text/html"}, page)
    assert isinstance(error, ServerError)
    assert isinstance(error, MistralAPIStatusException)
    assert str(error) == "502 Bad Gateway: non-JSON response: 502 Bad Gateway"


def test_empty_and_binary_bodies_never_crash() -> None:
    assert str(error_from_response(503, {}, b"")) == "503 Service Unavailable"
    assert "non-JSON response" in str(error_from_response(500, {}, b"\xff\xfe\x00garbage"))
    long = error_from_response(400, {}, b'{"message": "' + b"x" * 5000 + b'"}')
    assert len(str(long)) < 400


def test_request_id_from_body_or_headers() -> None:
    assert error_from_response(401, {}, b'{"message":"Unauthorized","request_id":"abc"}').request_id == "abc"
    assert error_from_response(500, {"Mistral-Correlation-Id": "corr-1"}, b"{}").request_id == "corr-1"


def test_malformed_success_body_is_a_decode_error() -> None:
    rec = Recorder(httpx.Response(200, content=b"{not json"))
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        with pytest.raises(ResponseDecodeError, match="not valid JSON"):
            client.chat("m", [{"role": "user", "content": "hi"}])
    assert len(rec.requests) == 1  # not retried


def test_key_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    echo = {"message": f"Invalid key {KEY}", "type": "authentication_error"}
    rec = Recorder(httpx.Response(401, json=echo), httpx.Response(200, json=completion()))
    caplog.set_level(logging.DEBUG)
    with MistralClient(api_key=KEY, transport=httpx.MockTransport(rec)) as client:
        with pytest.raises(AuthenticationError) as caught:
            client.chat("m", [{"role": "user", "content": "hi"}])
        client.chat("m", [{"role": "user", "content": "hi"}])
    assert KEY not in str(caught.value)
    assert KEY not in repr(caught.value)
    assert "***" in str(caught.value)
    assert caplog.records, "debug logging should record the requests"
    assert all(KEY not in record.getMessage() for record in caplog.records)
