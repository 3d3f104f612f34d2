"""Seed-era (0.4.x SDK) behaviour users relied on: deprecation warnings; mocking ``client._client`` fails loudly."""

from __future__ import annotations

import logging
from typing import Any
from unittest import mock

import httpx
import pytest

from mistral_agents import MistralAsyncClient, MistralClient
from mistral_agents.models.chat_completion import ChatMessage

MESSAGES = [ChatMessage(role="user", content="Hi")]
ANSWER = {
    "id": "1",
    "object": "chat.completion",
    "created": 0,
    "model": "open-mistral-7b",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
}
STREAM = (
    b'data: {"id":"1","model":"m","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":"stop"}]}\n\n'
    b"data: [DONE]\n\n"
)
DATE = "2024-12-01T00:00:00Z"


def handler(request: httpx.Request) -> httpx.Response:
    headers = {"x-model-deprecation-timestamp": DATE}
    if b'"stream":true' in request.content:
        return httpx.Response(200, headers={**headers, "content-type": "text/event-stream"}, content=STREAM)
    return httpx.Response(200, headers=headers, json=ANSWER)


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "deprecated" in r.getMessage()]


def test_a_deprecated_model_is_named_with_its_date_once_per_client(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mistral_agents")
    with MistralClient(api_key="k", transport=httpx.MockTransport(handler)) as client:
        client.chat(model="open-mistral-7b", messages=MESSAGES)
        client.chat(model="open-mistral-7b", messages=MESSAGES)
        list(client.chat_stream(model="mistral-tiny", messages=MESSAGES))
    assert warnings_of(caplog) == [
        f"The model open-mistral-7b is deprecated and will be removed on {DATE}. Please refer to "
        "https://docs.mistral.ai/getting-started/models/#api-versioning for more information.",
        f"The model mistral-tiny is deprecated and will be removed on {DATE}. Please refer to "
        "https://docs.mistral.ai/getting-started/models/#api-versioning for more information.",
    ]


async def test_the_async_client_warns_too(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mistral_agents")
    async with MistralAsyncClient(api_key="k", transport=httpx.MockTransport(handler)) as client:
        await client.chat(model="open-mistral-7b", messages=MESSAGES)
    assert len(warnings_of(caplog)) == 1
    assert "open-mistral-7b" in warnings_of(caplog)[0]


def test_no_header_no_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="mistral_agents")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=ANSWER))
    with MistralClient(api_key="k", transport=transport) as client:
        client.chat(model="open-mistral-7b", messages=MESSAGES)
    assert warnings_of(caplog) == []


def test_mocking_the_seed_private_client_fails_loudly_instead_of_reaching_the_network() -> None:
    client = MistralClient(api_key="k", endpoint="http://127.0.0.1:9")
    fake: Any = mock.Mock()
    with pytest.raises(AttributeError, match="transport="):
        client._client = fake  # type: ignore[misc]
    with pytest.raises(AttributeError), mock.patch.object(client, "_client", fake):
        pass
    with pytest.raises(AttributeError, match="transport="):
        client._client.request  # noqa: B018
    client.close()
