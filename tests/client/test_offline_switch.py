"""``MISTRAL_AGENTS_OFFLINE=1``: clients built without an endpoint talk to the built-in offline model, saying so
once on stderr; without the switch there is no silent fallback."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient
from mistral_agents._base_client import OFFLINE_ENDPOINT
from mistral_agents.exceptions import MistralException

SCRIPT = textwrap.dedent(
    """
    import asyncio
    from mistral_agents import Agent, MistralAsyncClient, MistralClient, tool

    @tool
    def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
        '''Get the payment status of a transaction.

        Args:
            transaction_id: The transaction id, e.g. T1001.
        '''
        return {"status": "Paid"}

    print(MistralClient().chat("mistral-small-latest", [{"role": "user", "content": "hi"}]).choices[0].message.content)

    async def main() -> None:
        reply = await MistralAsyncClient().chat("mistral-small-latest", [{"role": "user", "content": "hi"}])
        print(reply.choices[0].message.content)
        async with Agent("mistral-large-latest", [retrieve_payment_status]) as agent:
            print((await agent.arun("Status of T1001?")).output)

    with Agent("mistral-large-latest", [retrieve_payment_status]) as agent:
        print(agent.run("Status of T1001?").output)
    asyncio.run(main())
    """
)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MISTRAL_API_KEY", "MISTRAL_AGENTS_OFFLINE")}
    env.update(extra)
    return env


@pytest.mark.parametrize("key", [None, "a-real-looking-key"], ids=["no key", "with a key"])
def test_the_switch_sends_sync_async_and_agent_clients_to_the_offline_model(key: str | None) -> None:
    env = _env(MISTRAL_AGENTS_OFFLINE="1", **({"MISTRAL_API_KEY": key} if key else {}))
    done = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 4
    # sync client, sync agent, then async client, async agent: the offline model's deterministic answers
    assert lines[0] == lines[2] and lines[0]
    assert "T1001" in lines[1] and "Paid" in lines[1] and lines[1] == lines[3]
    said = done.stderr.splitlines()
    assert len(said) == 1 and "MISTRAL_AGENTS_OFFLINE=1" in said[0] and "offline model" in said[0], done.stderr


def test_without_the_switch_there_is_no_silent_fallback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    monkeypatch.delenv("MISTRAL_AGENTS_OFFLINE", raising=False)
    for cls in (MistralClient, MistralAsyncClient):
        with pytest.raises(MistralException, match="MISTRAL_AGENTS_OFFLINE=1"):
            cls()
    with pytest.raises(MistralException, match="No API key"):
        Agent("mistral-large-latest").run("hi")


def test_the_switch_leaves_an_explicit_endpoint_transport_or_http_client_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MISTRAL_AGENTS_OFFLINE", "1")
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    assert MistralClient().endpoint == OFFLINE_ENDPOINT
    assert MistralAsyncClient().endpoint == OFFLINE_ENDPOINT
    assert MistralClient(endpoint="http://127.0.0.1:9/v1").endpoint.startswith("http://127.0.0.1:9")
    with pytest.raises(MistralException, match="No API key"):  # the official endpoint, asked for by name
        MistralClient(endpoint="https://api.mistral.ai")
    monkeypatch.setenv("MISTRAL_AGENTS_OFFLINE", "0")
    with pytest.raises(MistralException, match="No API key"):
        MistralClient()
