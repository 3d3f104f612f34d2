"""httpx2 (``http_backend="httpx2"``, or a caller-owned httpx2 client): never imported unless used, and the same
errors as on httpx — users catch ours, never a transport's.

Faults (timeouts, resets, 429/5xx, stream cuts) on this backend are covered by the fault matrix
(tests/reliability/test_fault_matrix.py, parametrised over sync-httpx2 and async-httpx2 too).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap

import httpx2
import pytest

from mistral_agents import (
    MistralAsyncClient,
    MistralClient,
    MistralConnectionException,
    MistralTimeoutException,
    RateLimitError,
)
from mistral_agents.testing import OfflineModel, OfflineServer, Reply

MODEL = "mistral-small-latest"
MESSAGES = [{"role": "user", "content": "hi"}]
RATE = {"object": "error", "message": "Rate limit exceeded", "type": "rate_limited", "code": "1300"}


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=False
    )


def test_import_mistral_agents_never_loads_httpx2() -> None:
    done = run_python(
        """
        import sys
        from mistral_agents import Agent, MistralAsyncClient, MistralClient
        MistralAsyncClient(endpoint="http://127.0.0.1:9"); MistralClient(endpoint="http://127.0.0.1:9")
        print(sorted(m for m in sys.modules if m.startswith(("httpx2", "httpcore2"))))
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_without_the_extra_the_error_names_it() -> None:
    done = run_python(
        """
        import sys
        sys.modules["httpx2"] = None  # as if the extra were not installed
        from mistral_agents import MistralClient
        try:
            MistralClient(endpoint="http://127.0.0.1:9", http_backend="httpx2")
        except ImportError as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert 'pip install "mistral-agents[httpx2]"' in done.stdout


def test_a_caller_owned_httpx2_client_is_used_and_left_open() -> None:
    with OfflineServer(OfflineModel(script=["one", "two"])).start() as server, httpx2.Client() as http:
        client = MistralClient(endpoint=server.url, http_client=http)
        assert client.http_backend == "httpx2"
        assert client.chat(MODEL, MESSAGES).choices[0].message.content == "one"
        assert "".join(c.choices[0].delta.content or "" for c in client.chat_stream(MODEL, MESSAGES)) == "two"
        client.close()
        assert not http.is_closed


async def test_a_caller_owned_httpx2_async_client_is_used_and_left_open() -> None:
    with OfflineServer(OfflineModel(script=["one", "two"])).start() as server:
        async with httpx2.AsyncClient() as http:
            client = MistralAsyncClient(endpoint=server.url, http_client=http)
            assert client.http_backend == "httpx2"
            assert (await client.chat(MODEL, MESSAGES)).choices[0].message.content == "one"
            text = "".join([c.choices[0].delta.content or "" async for c in client.chat_stream(MODEL, MESSAGES)])
            assert text == "two"
            await client.close()
            assert not http.is_closed


def test_errors_out_of_a_caller_owned_httpx2_client_are_ours() -> None:
    with socket.socket() as sock:  # a port nothing listens on: connecting is refused
        sock.bind(("127.0.0.1", 0))
        refused = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with httpx2.Client() as http:
        with pytest.raises(MistralConnectionException) as caught:
            MistralClient(endpoint=refused, http_client=http, max_retries=0).chat(MODEL, MESSAGES)
        assert isinstance(caught.value.__cause__, httpx2.ConnectError)
    with OfflineServer(OfflineModel(script=[Reply.error(429, RATE)])).start() as server, httpx2.Client() as http:
        with pytest.raises(RateLimitError):
            MistralClient(endpoint=server.url, http_client=http, max_retries=0).chat(MODEL, MESSAGES)


async def test_an_httpx2_timeout_is_our_timeout() -> None:
    with OfflineServer(OfflineModel(script=[Reply.text("late", delay=2.0)])).start() as server:
        async with httpx2.AsyncClient(timeout=httpx2.Timeout(0.2)) as http:
            client = MistralAsyncClient(endpoint=server.url, http_client=http, max_retries=0)
            with pytest.raises(MistralTimeoutException) as caught:
                await client.chat(MODEL, MESSAGES)
    assert isinstance(caught.value.__cause__, httpx2.TimeoutException)


def test_the_backend_carries_over_to_the_other_flavour() -> None:
    client = MistralClient(endpoint="http://127.0.0.1:9", http_backend="httpx2")
    assert client.as_async().http_backend == "httpx2"
    assert client.as_async().as_sync().http_backend == "httpx2"
    client.close()
    # A caller-owned transport decides the stack: the offline model's (an httpx transport) runs on httpx.
    offline = MistralClient(endpoint="http://127.0.0.1:9", http_backend="httpx2", transport=OfflineModel().transport())
    assert offline.http_backend == "httpx" and offline.chat(MODEL, MESSAGES).choices[0].message.content
    with pytest.raises(ValueError, match="httpx or httpx2"):
        MistralClient(endpoint="http://127.0.0.1:9", http_backend="aiohttp")  # type: ignore[arg-type]
