"""A history with a system message after the conversation started is made valid, not sent as is."""

from __future__ import annotations

from typing import Any

import pytest

from mistral_agents import Agent, MistralClient
from mistral_agents.testing import OfflineModel

MODEL = "mistral-large-latest"

LATE_SYSTEM: list[dict[str, Any]] = [
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "system", "content": "From now on, answer in French."},
]
AFTER_TOOL: list[dict[str, Any]] = [
    {"role": "user", "content": "Status?"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"id": "D681PevKs", "function": {"name": "status", "arguments": "{}"}}],
    },
    {"role": "tool", "tool_call_id": "D681PevKs", "name": "status", "content": "Paid"},
    {"role": "system", "content": "Be brief."},
]


@pytest.mark.parametrize("history", [LATE_SYSTEM, AFTER_TOOL], ids=["after-assistant", "after-tool"])
def test_a_late_system_message_is_sent_as_a_user_turn(history: list[dict[str, Any]]) -> None:
    model = OfflineModel(script=["ok"])
    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    with Agent(MODEL, client=client, system_prompt="You are helpful.") as agent:
        result = agent.run("And now?", history=history)
    assert result.output == "ok"
    assert model.rejections == []
    sent = model.chat_requests[0]["messages"]
    roles = [m["role"] for m in sent]
    assert roles.count("system") == 1 and roles[0] == "system"
    assert sent[0]["content"] == "You are helpful."
    late = history[-1]["content"]
    assert {"role": "user", "content": late} in sent
    assert sent[-1] == {"role": "user", "content": "And now?"}
