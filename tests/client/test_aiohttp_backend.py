"""``MistralAsyncClient(http_backend="aiohttp")``: opt-in, never imported unless chosen, same behaviour.

Errors, retries, streaming and timeouts on this backend are covered by the fault matrix
(tests/reliability/test_fault_matrix.py, parametrised over sync, async and aiohttp).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

import httpx
import pytest

from mistral_agents import Agent, MistralAsyncClient, tool
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "hi"}]


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_mistral_agents_never_loads_aiohttp() -> None:
    done = run_python(
        """
        import sys
        import mistral_agents
        from mistral_agents import Agent, MistralAsyncClient
        MistralAsyncClient(endpoint="http://127.0.0.1:9")
        print(sorted(m for m in sys.modules if m.startswith("aiohttp")))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_the_error_names_it() -> None:
    done = run_python(
        """
        import sys
        sys.modules["aiohttp"] = None  # as if the extra were not installed
        from mistral_agents import MistralAsyncClient
        try:
            MistralAsyncClient(endpoint="http://127.0.0.1:9", http_backend="aiohttp")
        except ImportError as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "mistral-agents[aiohttp]"' in done.stdout


def test_the_backend_takes_no_httpx_objects_and_only_known_names() -> None:
    with pytest.raises(ValueError, match="no httpx transport"):
        MistralAsyncClient(
            endpoint="http://127.0.0.1:9", http_backend="aiohttp", transport=httpx.MockTransport(lambda r: None)
        )
    with pytest.raises(ValueError, match='"httpx", "httpx2" or "aiohttp"'):
        MistralAsyncClient(endpoint="http://127.0.0.1:9", http_backend="curl")  # type: ignore[arg-type]


@tool
async def weather(city: str) -> str:
    """The weather.

    Args:
        city: A city.
    """
    return f"sunny in {city}"


def test_an_agent_on_the_aiohttp_backend_over_many_event_loops() -> None:
    """Sessions belong to a loop: each asyncio.run gets its own, closed when the loop ends."""
    script = [Reply.tool_call("weather", {"city": "Paris"}), "Sunny."] * 20
    with OfflineServer(OfflineModel(script=script)) as server:
        client = MistralAsyncClient(endpoint=server.url, http_backend="aiohttp", max_retries=0)
        agent = Agent(MODEL, [weather], client=client)
        for _ in range(20):
            result = asyncio.run(agent.arun("weather?"))
            assert result.output == "Sunny." and result.tool_calls[0].result == "sunny in Paris"
        assert client._pools is not None and len(client._pools) == 0
        requests = server.model.requests
        assert len(requests) == 40
        assert requests[0].json["tools"][0]["function"]["name"] == "weather"


async def test_streams_and_plain_calls_share_the_session_and_its_headers() -> None:
    with OfflineServer(OfflineModel(script=["one", "two three"], api_key="sk-aio")) as server:
        async with MistralAsyncClient(api_key="sk-aio", endpoint=server.url, http_backend="aiohttp") as client:
            assert (await client.chat(MODEL, MESSAGES)).choices[0].message.content == "one"
            chunks = [c async for c in client.chat_stream(MODEL, MESSAGES)]
            assert "".join(c.choices[0].delta.content or "" for c in chunks) == "two three"
        assert server.model.rejections == []  # the key was sent, as the default backend sends it
