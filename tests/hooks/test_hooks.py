"""Lifecycle hooks see every model call and tool call, in order, and can never break a run."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest

from mistral_agents import (
    Agent,
    AgentHooks,
    ChatCompletionResponse,
    MistralAsyncClient,
    MistralClient,
    RunResult,
    ToolCallEvent,
    ToolResultEvent,
    tool,
)
from mistral_agents.testing import OfflineModel, Reply


@tool
def lookup(order_id: str) -> dict[str, str]:
    """Look an order up.

    Args:
        order_id: The order id.
    """
    return {"order": order_id, "state": "shipped"}


class Recorder(AgentHooks):
    def __init__(self) -> None:
        self.seen: list[tuple[Any, ...]] = []

    def on_model_request(self, step: int, request: Mapping[str, Any]) -> None:
        self.seen.append(("request", step, len(request["messages"])))

    def on_model_response(self, step: int, response: ChatCompletionResponse, duration: float) -> None:
        assert duration >= 0
        self.seen.append(("response", step, response.choices[0].finish_reason))

    def on_tool_start(self, event: ToolCallEvent) -> None:
        self.seen.append(("tool_start", event.name, event.arguments))

    def on_tool_end(self, event: ToolResultEvent) -> None:
        self.seen.append(("tool_end", event.name, event.outcome.content))

    def on_run_end(self, result: RunResult[Any]) -> None:
        self.seen.append(("end", result.output))


EXPECTED = [
    ("request", 1, 1),
    ("response", 1, "tool_calls"),
    ("tool_start", "lookup", '{"order_id": "A1"}'),
    ("tool_end", "lookup", '{"order":"A1","state":"shipped"}'),
    ("request", 2, 3),
    ("response", 2, "stop"),
    ("end", "Order A1 has shipped."),
]


def script() -> OfflineModel:
    return OfflineModel(script=[Reply.tool_call("lookup", {"order_id": "A1"}), "Order A1 has shipped."])


@pytest.mark.parametrize("stream", [False, True])
def test_sync_hooks_see_each_moment_in_order(stream: bool) -> None:
    model, hooks = script(), Recorder()
    with Agent(
        "m", [lookup], client=MistralClient(endpoint="http://offline", transport=model.transport()), hooks=hooks
    ) as agent:
        if stream:
            list(agent.run_stream("Where is A1?"))
        else:
            agent.run("Where is A1?")
    assert hooks.seen == EXPECTED
    assert model.rejections == []


async def test_async_hooks_see_the_same() -> None:
    model, first, second = script(), Recorder(), Recorder()
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport())
    async with client, Agent("m", [lookup], client=client, hooks=[first, second]) as agent:
        await agent.arun("Where is A1?")
    assert first.seen == second.seen == EXPECTED


def test_a_hook_that_raises_is_logged_and_the_run_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    class Broken(AgentHooks):
        def on_tool_start(self, event: ToolCallEvent) -> None:
            raise RuntimeError("tracing backend down")

    model = script()
    with Agent(
        "m", [lookup], client=MistralClient(endpoint="http://offline", transport=model.transport()), hooks=Broken()
    ) as agent:
        with caplog.at_level(logging.ERROR, logger="mistral_agents.agent"):
            result = agent.run("Where is A1?")
    assert result.output == "Order A1 has shipped."
    assert "Broken.on_tool_start raised" in caplog.text


def test_hooks_must_be_agent_hooks() -> None:
    with pytest.raises(TypeError, match="AgentHooks"):
        Agent("m", hooks=[object()], client=MistralClient(endpoint="http://offline"))  # type: ignore[list-item]
