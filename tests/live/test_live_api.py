"""Against the real Mistral API: skipped unless MISTRAL_API_KEY is set (see tests/conftest.py)."""

from __future__ import annotations

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient
from mistral_agents.demo import SYSTEM_PROMPT, retrieve_payment_date, retrieve_payment_status

pytestmark = pytest.mark.live

MODEL = "mistral-small-latest"


def test_chat_stream_embeddings_and_models() -> None:
    with MistralClient(max_retries=2) as client:
        reply = client.chat(MODEL, [{"role": "user", "content": "Say OK."}], max_tokens=5, temperature=0)
        assert reply.choices[0].message.content
        assert reply.usage.total_tokens > 0
        chunks = list(client.chat_stream(MODEL, [{"role": "user", "content": "Say OK."}], max_tokens=5))
        assert chunks[-1].usage is not None
        embedded = client.embeddings("mistral-embed", ["hello"])
        assert len(embedded.data[0].embedding) == 1024
        assert any(card.id for card in client.list_models().data)


async def test_payment_agent_on_the_real_api() -> None:
    async with (
        MistralAsyncClient(max_retries=2) as client,
        Agent(
            MODEL,
            [retrieve_payment_status, retrieve_payment_date],
            client=client,
            system_prompt=SYSTEM_PROMPT,
            temperature=0,
        ) as agent,
    ):
        result = await agent.arun("What's the status of my transaction T1001?")
    assert "paid" in result.output.lower()
    assert [call.name for call in result.tool_calls] == ["retrieve_payment_status"]
