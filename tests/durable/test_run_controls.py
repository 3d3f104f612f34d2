"""Run controls decided in the loop hold in durable runs too: usage limits, and agents called as tools (their
usage counted in the durable result)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from mistral_agents import Agent, MistralAsyncClient, MistralClient, UsageLimitExceeded, UsageLimits, tool
from mistral_agents.testing import OfflineModel, Reply

from .test_dbos_agent import AGENTS, durable, make_agent


@pytest.fixture(autouse=True)
def _close_agents() -> Iterator[None]:
    """Each agent's tool threads end with its test (later tests count the process's threads)."""
    yield
    while AGENTS:
        AGENTS.pop().close()


@tool
def lookup(i: int) -> str:
    """Look an item up."""
    return f"item {i}"


def test_a_durable_run_obeys_the_agents_usage_limits(dbos_config: dict[str, Any]) -> None:
    model = OfflineModel(script=[Reply.tool_call("lookup", {"i": 1}), Reply.tool_call("lookup", {"i": 2}), "Done."])
    bot = durable(make_agent(model, [lookup], usage_limits=UsageLimits(requests=2)))

    with pytest.raises(UsageLimitExceeded, match="requests limit of 2"):
        bot.run("Look items up", workflow_id="limits-1")

    assert len(model.chat_requests) == 2


def test_an_agent_tool_in_a_durable_run_adds_its_usage(dbos_config: dict[str, Any]) -> None:
    tokens = {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12}
    outer = OfflineModel(
        script=[Reply.tool_call("items", {"input": "item 1?"}, usage=tokens), Reply.text("It is item 1.", usage=tokens)]
    )
    inner = OfflineModel(script=[Reply.tool_call("lookup", {"i": 1}, usage=tokens), Reply.text("item 1", usage=tokens)])
    # a durable run is async: the inner agent runs with arun, on its own (async) client
    items: Agent[Any] = Agent(
        "mistral-small-latest",
        [lookup],
        name="items",
        client=MistralAsyncClient(endpoint="http://inner", transport=inner.transport()),
    )
    AGENTS.append(items)
    bot = durable(make_agent(outer, [items.as_tool()]))

    result = bot.run("Which item?", workflow_id="team-1")

    assert result.output == "It is item 1."
    assert (result.usage.total_tokens, result.usage.requests, result.usage.tool_calls) == (48, 4, 2)
    assert len(inner.chat_requests) == 2
    # the usage is part of the tool step's stored outcome: replaying the workflow gives the same result
    assert bot.run("Which item?", workflow_id="team-1") == result


def test_a_durable_run_falls_back_to_the_next_model(dbos_config: dict[str, Any]) -> None:
    def answer(body: dict[str, Any]) -> Reply | str:
        if body["model"] == "mistral-small-latest":
            return Reply.error(503, {"object": "error", "message": "overloaded", "type": "test", "code": None})
        return "From the medium model."

    model = OfflineModel(policy=answer)
    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent: Agent[Any] = Agent("mistral-small-latest", client=client, fallback_models=["mistral-medium-latest"])
    AGENTS.append(agent)
    bot = durable(agent)

    result = bot.run("Hi", workflow_id="fallback-1")
    again = bot.run("Hi", workflow_id="fallback-1")

    assert result.output == "From the medium model."
    assert result.models_used == ["mistral-medium-latest"]
    assert [body["model"] for body in model.chat_requests] == ["mistral-small-latest", "mistral-medium-latest"]
    assert again == result


def test_an_agent_tool_without_a_client_uses_the_durable_runs(dbos_config: dict[str, Any]) -> None:
    model = OfflineModel(script=[Reply.tool_call("items", {"input": "item 2?"}), "item 2", "It is item 2."])
    items: Agent[Any] = Agent("mistral-small-latest", name="items", system_prompt="You know the items.")
    AGENTS.append(items)
    bot = durable(make_agent(model, [items.as_tool()]))

    result = bot.run("Which item?", workflow_id="team-2")

    assert result.output == "It is item 2."
    assert model.chat_requests[1]["messages"][0] == {"role": "system", "content": "You know the items."}
    assert result.usage.requests == 3


def test_a_durable_run_follows_a_handoff(dbos_config: dict[str, Any]) -> None:
    model = OfflineModel(script=[Reply.tool_call("transfer_to_items", {}), Reply.tool_call("lookup", {"i": 3}), "3."])
    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    items: Agent[Any] = Agent("mistral-medium-latest", [lookup], client=client, name="items", system_prompt="Items.")
    triage: Agent[Any] = Agent("mistral-small-latest", client=client, name="triage", handoffs=[items])
    AGENTS.extend([items, triage])
    bot = durable(triage)

    result = bot.run("Item 3?", workflow_id="handoff-1")

    assert (result.output, result.agent_name, result.handoffs) == ("3.", "items", ["items"])
    assert [body["model"] for body in model.chat_requests] == [
        "mistral-small-latest", "mistral-medium-latest", "mistral-medium-latest",
    ]  # fmt: skip
    assert bot.run("Item 3?", workflow_id="handoff-1") == result
