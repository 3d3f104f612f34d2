"""The agent on an OpenAI-compatible server (vLLM, Ollama, llama.cpp server, LM Studio style).

Such servers answer with ``call_…`` ids and stream tool calls in fragments; a conversation that moves from
one of them to the Mistral API must still be accepted there.
"""

from __future__ import annotations

import json

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient, TextDelta, ToolCallEvent, tool
from mistral_agents.testing import OfflineModel, OfflineServer

from .helpers import VALID_ID


@tool
def retrieve_payment_status(transaction_id: str) -> dict[str, str]:
    """Get payment status of a transaction id.

    Args:
        transaction_id: The transaction id.
    """
    return {"status": "Paid" if transaction_id == "T1001" else "Unknown"}


@pytest.mark.parametrize("stream", [False, True])
def test_sync_agent_over_http_on_an_openai_compatible_server(stream: bool) -> None:
    server_model = OfflineModel(openai_compatible=True)
    with OfflineServer(server_model) as server, MistralClient(endpoint=f"{server.url}/v1") as client:
        agent = Agent("local-model", [retrieve_payment_status], client=client, tool_choice="required")
        with agent:
            if stream:
                events = list(agent.run_stream("What's the status of my transaction T1001?"))
                result = events[-1].result  # type: ignore[union-attr]
                assert any(isinstance(e, ToolCallEvent) for e in events)
                assert any(isinstance(e, TextDelta) for e in events)
            else:
                result = agent.run("What's the status of my transaction T1001?")
    assert "Paid" in result.output
    assert server_model.rejections == []
    first, second = server_model.chat_requests
    assert first["tool_choice"] == "required"
    assert second["tool_choice"] == "auto"
    # No Mistral-only fields leak to a server that may not know them, and no key is needed.
    assert all("authorization" not in r.headers for r in server_model.requests)
    # The server's call_… id was rewritten to the 9-alphanumeric form, consistently.
    assistant, tool_message = second["messages"][-2], second["messages"][-1]
    call_id = assistant["tool_calls"][0]["id"]
    assert VALID_ID.match(call_id)
    assert tool_message["tool_call_id"] == call_id


async def test_history_from_an_openai_compatible_server_is_valid_for_mistral() -> None:
    local = OfflineModel(openai_compatible=True)
    hosted = OfflineModel()  # enforces the hosted API's rules
    async with (
        MistralAsyncClient(endpoint="http://local", transport=local.transport()) as local_client,
        MistralAsyncClient(endpoint="http://hosted", transport=hosted.transport()) as hosted_client,
        Agent("local-model", [retrieve_payment_status], client=local_client) as local_agent,
        Agent("mistral-small-latest", [retrieve_payment_status], client=hosted_client) as hosted_agent,
    ):
        first = await local_agent.arun("What's the status of transaction T1001?")
        assert any(r.json["messages"][-2].get("tool_calls") for r in local.requests[1:])
        follow_up = await hosted_agent.arun("And the status of T1001 again?", history=first.messages)
    assert "Paid" in follow_up.output
    assert local.rejections == [] and hosted.rejections == []
    sent = hosted.chat_requests[0]["messages"]
    ids = [c["id"] for m in sent if m.get("tool_calls") for c in m["tool_calls"]]
    assert ids and all(VALID_ID.match(i) for i in ids)
    assert '"call_' not in json.dumps(sent)  # no OpenAI-style id survives
