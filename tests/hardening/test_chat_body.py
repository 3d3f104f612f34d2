"""The chat body is built from explicit names: each parameter lands under its own name, nothing else is sent."""

from __future__ import annotations

import inspect
import json
from typing import Any

import httpx
import pytest

from mistral_agents import MistralClient
from mistral_agents.testing import OfflineModel

DISTINCT: dict[str, Any] = {
    "temperature": 0.11,
    "top_p": 0.22,
    "max_tokens": 33,
    "random_seed": 44,
    "safe_prompt": True,
    "stop": ["55"],
    "parallel_tool_calls": False,
    "presence_penalty": 0.66,
    "frequency_penalty": 0.77,
    "n": 1,
}


@pytest.mark.parametrize("method", ["chat", "chat_stream"])
def test_every_parameter_lands_under_its_own_name(method: str) -> None:
    assert set(DISTINCT) | {"self", "model", "messages", "tools", "tool_choice", "response_format", "extra"} == set(
        inspect.signature(getattr(MistralClient, method)).parameters
    )
    model = OfflineModel(script=["ok"])
    with MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0) as client:
        result = getattr(client, method)("m", [{"role": "user", "content": "hi"}], **DISTINCT, metadata={"k": "v"})
        if method == "chat_stream":
            list(result)
    body = model.chat_requests[0]
    sent = {key: body[key] for key in DISTINCT}
    assert sent == DISTINCT
    assert body["metadata"] == {"k": "v"}
    expected = {"model", "messages", *DISTINCT, "metadata"} | ({"stream"} if method == "chat_stream" else set())
    assert set(body) == expected


def test_unset_parameters_are_not_sent() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(400, json={"message": "stop here"})

    with MistralClient(api_key="k", transport=httpx.MockTransport(handler), max_retries=0) as client:
        with pytest.raises(Exception, match="stop here"):
            client.chat("m", [{"role": "user", "content": "hi"}])
    assert set(seen[0]) == {"model", "messages"}
