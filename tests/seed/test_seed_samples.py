"""The seed-era SDK's samples run on our client with only their imports changed.

Each sample is run as a script, as its users ran it: with ``MISTRAL_API_KEY`` set and the official endpoint.
The default httpx transports are routed to the offline model (which checks the key and enforces the hosted
API's request rules), so nothing leaves the machine.
"""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mistral_agents._pool import AsyncPool
from mistral_agents.testing import OfflineModel

SAMPLES = Path(__file__).parent / "samples"
KEY = "seed-sample-key"


@pytest.fixture
def model(monkeypatch: pytest.MonkeyPatch) -> Iterator[OfflineModel]:
    offline = OfflineModel(api_key=KEY)
    transport = offline.transport()
    monkeypatch.setenv("MISTRAL_API_KEY", KEY)
    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", lambda self, request: transport.handle_request(request))

    async def handle_async(self: httpx.AsyncBaseTransport, request: httpx.Request) -> httpx.Response:
        return await transport.handle_async_request(request)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", handle_async)
    monkeypatch.setattr(AsyncPool, "handle_async_request", handle_async)  # the async client's own pool
    yield offline
    assert offline.rejections == [], "a seed sample sent a request the hosted API would reject"


def run_sample(name: str) -> None:
    runpy.run_path(str(SAMPLES / name), run_name="__main__")


@pytest.mark.parametrize("name", ["chat_no_streaming.py", "async_chat_no_streaming.py"])
def test_chat(name: str, model: OfflineModel, capsys: pytest.CaptureFixture[str]) -> None:
    run_sample(name)
    out = capsys.readouterr().out.strip()
    assert out
    request = model.requests[-1]
    assert request.path == "/v1/chat/completions"
    assert request.json == {
        "model": "mistral-tiny",
        "messages": [{"role": "user", "content": "What is the best French cheese?"}],
    }
    assert KEY not in str(request.headers)  # recorded requests never keep the key


@pytest.mark.parametrize("name", ["chat_with_streaming.py", "async_chat_with_streaming.py"])
def test_streaming(name: str, model: OfflineModel, capsys: pytest.CaptureFixture[str]) -> None:
    run_sample(name)
    out = capsys.readouterr().out
    assert len(out.strip()) > 10
    assert model.requests[-1].json["stream"] is True


@pytest.mark.parametrize("name", ["embeddings.py", "async_embeddings.py"])
def test_embeddings(name: str, model: OfflineModel, capsys: pytest.CaptureFixture[str]) -> None:
    run_sample(name)
    out = capsys.readouterr().out
    assert out.count("EmbeddingObject(") == 10
    assert model.requests[-1].json == {"model": "mistral-embed", "input": ["What is the best French cheese?"] * 10}


def test_list_models(model: OfflineModel, capsys: pytest.CaptureFixture[str]) -> None:
    run_sample("list_models.py")
    out = capsys.readouterr().out
    assert "mistral-large-latest" in out
    assert model.requests[-1].method == "GET"


def test_json_mode(model: OfflineModel, capsys: pytest.CaptureFixture[str]) -> None:
    run_sample("json_format.py")
    out = capsys.readouterr().out.strip()
    assert isinstance(json.loads(out), dict)
    assert model.requests[-1].json["response_format"] == {"type": "json_object"}


def test_function_calling_walkthrough(model: OfflineModel, capsys: pytest.CaptureFixture[str]) -> None:
    run_sample("function_calling.py")
    lines = capsys.readouterr().out.strip().splitlines()
    assert "transaction id" in lines[0].lower()  # the model asks for the id first
    assert (
        lines[1] == "calling function_name: retrieve_payment_status, with function_params: {'transaction_id': 'T1001'}"
    )
    assert "Paid" in lines[-1]
    chats = model.chat_requests
    assert len(chats) == 3
    last = chats[-1]["messages"]
    assistant, tool_message = last[-2], last[-1]
    call_id = assistant["tool_calls"][0]["id"]
    # The seed's tool message had no tool_call_id: the client filled in the matching call's id.
    assert tool_message == {
        "role": "tool",
        "name": "retrieve_payment_status",
        "content": '{"status": "Paid"}',
        "tool_call_id": call_id,
    }
    assert last[0]["role"] == "user"
    assert chats[0]["tools"][0]["function"]["name"] == "retrieve_payment_status"
