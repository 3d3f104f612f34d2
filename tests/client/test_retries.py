"""Retries: 408/429/5xx and connection errors, exponential backoff, Retry-After, never other 4xx."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from mistral_agents import (
    BadRequestError,
    MistralAsyncClient,
    MistralClient,
    MistralConnectionException,
    MistralTimeoutException,
    RateLimitError,
    RetryPolicy,
    ServerError,
)
from mistral_agents._retry import retry_after_seconds

from .helpers import KEY, Recorder, completion

MESSAGES = [{"role": "user", "content": "hi"}]


def client_for(rec: Recorder, policy: RetryPolicy, max_retries: int = 5) -> MistralClient:
    return MistralClient(api_key=KEY, transport=httpx.MockTransport(rec), max_retries=max_retries, retry=policy)


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_retryable_statuses_are_retried_until_success(status: int, no_wait: RetryPolicy, sleeps: list[float]) -> None:
    rec = Recorder(
        httpx.Response(status, json={"message": "busy"}),
        httpx.Response(status),
        httpx.Response(200, json=completion("ok")),
    )
    with client_for(rec, no_wait) as client:
        assert client.chat("m", MESSAGES).choices[0].message.content == "ok"
    assert len(rec.requests) == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_other_4xx_are_never_retried(status: int, no_wait: RetryPolicy) -> None:
    rec = Recorder(httpx.Response(status, json={"message": "no"}), httpx.Response(200, json=completion()))
    with client_for(rec, no_wait) as client, pytest.raises(Exception) as caught:
        client.chat("m", MESSAGES)
    assert getattr(caught.value, "status_code", None) == status
    assert len(rec.requests) == 1


def test_burst_longer_than_max_retries_gives_up_with_the_attempt_count(
    no_wait: RetryPolicy, sleeps: list[float]
) -> None:
    rec = Recorder(httpx.Response(503, json={"message": "overloaded"}))
    with client_for(rec, no_wait, max_retries=3) as client, pytest.raises(ServerError) as caught:
        client.chat("m", MESSAGES)
    assert len(rec.requests) == 4  # one attempt + three retries
    assert caught.value.attempts == 4
    assert str(caught.value) == "503 Service Unavailable: overloaded (gave up after 4 attempts)"
    assert len(sleeps) == 3


def test_max_retries_zero_means_one_attempt(no_wait: RetryPolicy) -> None:
    rec = Recorder(httpx.Response(500))
    with client_for(rec, no_wait, max_retries=0) as client, pytest.raises(ServerError):
        client.chat("m", MESSAGES)
    assert len(rec.requests) == 1


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(initial_wait=0.5, max_wait=4.0, jitter=0.5)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (5, 4.0), (9, 4.0)]:
        waits = [policy.wait_seconds(attempt, None) for _ in range(50)]
        assert all(ceiling * 0.5 <= w <= ceiling for w in waits)
        assert len(set(waits)) > 1  # jitter


def test_retry_after_seconds_is_honoured(no_wait: RetryPolicy, sleeps: list[float]) -> None:
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json=completion()))
    with client_for(rec, no_wait) as client:
        client.chat("m", MESSAGES)
    assert sleeps == [7.0]


def test_retry_after_http_date_is_honoured_and_capped(sleeps: list[float]) -> None:
    soon = email.utils.formatdate(time.time() + 30, usegmt=True)
    later = email.utils.formatdate(time.time() + 3600, usegmt=True)
    rec = Recorder(
        httpx.Response(429, headers={"Retry-After": soon}),
        httpx.Response(503, headers={"Retry-After": later}),
        httpx.Response(200, json=completion()),
    )
    policy = RetryPolicy(sleep=sleeps.append, max_retry_after=60)
    with client_for(rec, policy) as client:
        client.chat("m", MESSAGES)
    assert 27 <= sleeps[0] <= 30
    assert sleeps[1] == 60


def test_retry_after_parsing() -> None:
    assert retry_after_seconds({"retry-after": "2.5"}) == 2.5
    assert retry_after_seconds({"retry-after-ms": "1500"}) == 1.5
    assert retry_after_seconds({"Retry-After": "-3"}) == 0.0
    assert retry_after_seconds({"retry-after": "soon-ish"}) is None
    assert retry_after_seconds({}) is None
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0


def test_connection_errors_are_retried(no_wait: RetryPolicy) -> None:
    rec = Recorder(
        httpx.ConnectError("refused"), httpx.ReadError("reset"), httpx.Response(200, json=completion("back"))
    )
    with client_for(rec, no_wait) as client:
        assert client.chat("m", MESSAGES).choices[0].message.content == "back"
    assert len(rec.requests) == 3


def test_persistent_connection_failure_is_a_connection_exception(no_wait: RetryPolicy) -> None:
    rec = Recorder(httpx.ConnectError("[Errno 111] Connection refused"))
    with client_for(rec, no_wait, max_retries=2) as client, pytest.raises(MistralConnectionException) as caught:
        client.chat("m", MESSAGES)
    assert "Connection refused" in str(caught.value)
    assert caught.value.attempts == 3


def test_timeouts_are_typed_and_retried(no_wait: RetryPolicy) -> None:
    rec = Recorder(httpx.ReadTimeout("slow"))
    with client_for(rec, no_wait, max_retries=1) as client, pytest.raises(MistralTimeoutException) as caught:
        client.chat("m", MESSAGES)
    assert isinstance(caught.value, MistralConnectionException)
    assert len(rec.requests) == 2


def test_bad_request_after_a_retry_is_raised_at_once(no_wait: RetryPolicy) -> None:
    rec = Recorder(
        httpx.Response(429), httpx.Response(400, json={"message": "bad"}), httpx.Response(200, json=completion())
    )
    with client_for(rec, no_wait) as client, pytest.raises(BadRequestError) as caught:
        client.chat("m", MESSAGES)
    assert len(rec.requests) == 2
    assert caught.value.attempts == 2


async def test_async_retries_use_the_same_policy(no_wait: RetryPolicy, sleeps: list[float]) -> None:
    rec = Recorder(
        httpx.Response(429, headers={"retry-after": "1"}),
        httpx.Response(502),
        httpx.Response(200, json=completion("ok")),
    )
    async with MistralAsyncClient(api_key=KEY, transport=httpx.MockTransport(rec), retry=no_wait) as client:
        response = await client.chat("m", MESSAGES)
    assert response.choices[0].message.content == "ok"
    assert sleeps[0] == 1.0
    assert len(sleeps) == 2


async def test_async_gives_up_after_max_retries(no_wait: RetryPolicy) -> None:
    rec = Recorder(httpx.Response(429, json={"message": "slow down"}))
    async with MistralAsyncClient(
        api_key=KEY, transport=httpx.MockTransport(rec), max_retries=2, retry=no_wait
    ) as client:
        with pytest.raises(RateLimitError) as caught:
            await client.chat("m", MESSAGES)
    assert caught.value.attempts == 3
    assert len(rec.requests) == 3
