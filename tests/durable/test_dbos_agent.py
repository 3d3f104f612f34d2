"""DBOSAgent in one process: the same runs as Agent, as DBOS workflows whose stored data is small plain JSON."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from mistral_agents import Agent, ChatMessage, MistralClient, RunContext, tool
from mistral_agents.testing import OfflineModel, Reply


@tool
def lookup(ctx: RunContext[Any], i: int) -> dict[str, int]:
    """Look an item up in the catalog.

    Args:
        i: Item number.
    """
    catalog = ctx.deps["catalog"] if isinstance(ctx.deps, dict) else ctx.deps.catalog
    return {"item": i, "catalog_size": len(catalog)}


AGENTS: list[Agent[Any]] = []


@pytest.fixture(autouse=True)
def _close_agents() -> Iterator[None]:
    """Each agent's tool threads end with its test (later tests count the process's threads)."""
    yield
    while AGENTS:
        AGENTS.pop().close()


def make_agent(model: OfflineModel, tools: list[Any] | None = None, **options: Any) -> Agent[Any]:
    client = MistralClient(endpoint="http://offline", transport=model.transport())
    agent = Agent("mistral-small-latest", tools or [lookup], client=client, max_concurrency=20, **options)
    AGENTS.append(agent)
    return agent


def durable(agent: Agent[Any], name: str = "bot") -> Any:
    from dbos import DBOS

    from mistral_agents.durable import DBOSAgent

    bot = DBOSAgent(agent, name=name)
    DBOS.launch()
    return bot


def test_a_durable_run_equals_a_plain_run_and_replays_by_id(dbos_config: dict[str, Any]) -> None:
    script = [Reply.tool_calls([("lookup", {"i": 1}), ("lookup", {"i": 2})]), "Two items."]
    plain = make_agent(OfflineModel(script=list(script))).run("Items 1 and 2?", deps={"catalog": "ab"})
    model = OfflineModel(script=list(script))
    bot = durable(make_agent(model))

    first = bot.run("Items 1 and 2?", workflow_id="w-1", deps={"catalog": "ab"})
    again = bot.run("Items 1 and 2?", workflow_id="w-1", deps={"catalog": "ab"})
    from_async = asyncio.run(bot.arun("Items 1 and 2?", workflow_id="w-1", deps={"catalog": "ab"}))

    assert (first.output, first.messages, first.usage, first.steps) == (
        plain.output, plain.messages, plain.usage, plain.steps,
    )  # fmt: skip
    assert [(c.tool_call_id, c.content, c.result) for c in first.tool_calls] == [
        (c.tool_call_id, c.content, c.result) for c in plain.tool_calls
    ]
    assert again == first and from_async == first
    assert len(model.chat_requests) == 2  # the two later calls ran nothing


def test_arun_history_and_prompt_message(dbos_config: dict[str, Any]) -> None:
    model = OfflineModel(script=["Hello again."])
    bot = durable(make_agent(model, system_prompt="Be brief."))
    history = [ChatMessage(role="user", content="Hi"), ChatMessage(role="assistant", content="Hello.")]

    result = asyncio.run(bot.arun(ChatMessage(role="user", content="Again?"), history=history))

    assert result.output == "Hello again."
    assert [m["role"] for m in model.chat_requests[0]["messages"]] == ["system", "user", "assistant", "user"]
    assert result.new_messages == [ChatMessage(role="user", content="Again?"), result.messages[-1]]


def test_output_type_comes_back_typed(dbos_config: dict[str, Any]) -> None:
    class Answer(BaseModel):
        status: str

    model = OfflineModel(script=['{"status": "Paid"}'])
    bot = durable(make_agent(model, output_type=Answer))

    assert bot.run("Status?").output == Answer(status="Paid")


def test_errors_are_raised_and_replayed(dbos_config: dict[str, Any]) -> None:
    from mistral_agents import MaxStepsExceeded

    model = OfflineModel(script=[Reply.tool_call("lookup", {"i": 1})] * 2)
    bot = durable(make_agent(model, max_steps=1))

    with pytest.raises(MaxStepsExceeded):
        bot.run("Loop", workflow_id="fails", deps={"catalog": ""})
    with pytest.raises(MaxStepsExceeded):
        bot.run("Loop", workflow_id="fails", deps={"catalog": ""})
    assert len(model.chat_requests) == 1


def test_streaming_is_refused_with_a_reason(dbos_config: dict[str, Any]) -> None:
    bot = durable(make_agent(OfflineModel(script=[])))
    with pytest.raises(NotImplementedError, match="does not stream"):
        bot.run_stream("Hi")


def test_live_deps_go_by_reference_never_into_the_inputs(dbos_config: dict[str, Any]) -> None:
    from mistral_agents.durable import DBOSAgent, DepsRef

    with pytest.raises(ValueError, match="needs a name"):
        DBOSAgent(make_agent(OfflineModel(script=[])))
    bot = durable(make_agent(OfflineModel(script=[])))
    with pytest.raises(TypeError, match="register_deps"):
        bot.run("Hi", deps=object())
    with pytest.raises(KeyError, match="no deps registered as 'db'"):
        bot.run("Hi", deps=DepsRef("db"))


class Catalog:
    """A live object (not JSON): stands for a connection or a client."""

    def __init__(self, catalog: str) -> None:
        self.catalog = catalog


@pytest.mark.parametrize("by_reference", [False, True], ids=["json-deps", "deps-by-reference"])
def test_200kb_of_deps_and_20_parallel_calls_keep_the_stored_steps_small(tmp_path: Path, by_reference: bool) -> None:
    """Each step stores its own output only (a response, one tool outcome), never the deps; all of it JSON."""
    from dbos import DBOS
    from dbos._serialization import DBOSPortableJSON

    from mistral_agents.durable import DBOSAgent

    DBOS.destroy(destroy_registry=True)
    db = tmp_path / "dbos.sqlite"
    config = {"name": "deps", "system_database_url": f"sqlite:///{db}", "serializer": DBOSPortableJSON}
    DBOS(config=config)  # type: ignore[arg-type]
    try:
        model = OfflineModel(script=[Reply.tool_calls([("lookup", {"i": i}) for i in range(20)]), "Done."])
        bot = DBOSAgent(make_agent(model), name="deps")
        DBOS.launch()
        catalog = "x" * 200_000
        deps: Any = bot.register_deps("catalog", Catalog(catalog)) if by_reference else {"catalog": catalog}
        result = bot.run("All twenty", workflow_id="big", deps=deps)
    finally:
        DBOS.destroy(destroy_registry=True)

    expected = [{"item": i, "catalog_size": 200_000} for i in range(20)]
    assert [json.loads(c.content) for c in result.tool_calls] == expected
    with sqlite3.connect(db) as conn:
        steps = conn.execute("SELECT function_name, output, serialization FROM operation_outputs").fetchall()
        (inputs,) = conn.execute("SELECT inputs FROM workflow_input WHERE workflow_uuid = 'big'").fetchone()
    assert len(steps) == 22  # a model call, 20 tool calls, a model call
    assert all(serialization == "portable_json" for _, _, serialization in steps)  # plain JSON, no pickle
    assert max(len(output) for _, output, _ in steps) < 3_000  # the largest: the response with 20 calls
    assert sum(len(output) for name, output, _ in steps if ".tool." in name) < 20 * 400
    assert len(inputs) < (300 if by_reference else 201_000)  # the deps are stored once, as the run's input, or not
    json.loads(inputs)


def test_a_session_carries_the_conversation_across_durable_runs(dbos_config: dict[str, Any], tmp_path: Path) -> None:
    from dbos import DBOS

    from mistral_agents.durable import DBOSAgent
    from mistral_agents.sessions import SQLiteSession

    model = OfflineModel(script=[Reply.tool_call("lookup", {"i": 7}), "Item 7 is in.", "Still in."])
    store = f"sqlite:///{tmp_path / 'conversations.db'}"
    bot = DBOSAgent(make_agent(model, deps={"catalog": "abc"}), name="chat", sessions=store)
    DBOS.launch()

    first = bot.run(
        "Is item 7 in?", workflow_id="turn-1", session=SQLiteSession("c-42", str(tmp_path / "conversations.db"))
    )
    second = asyncio.run(bot.arun("And now?", workflow_id="turn-2", session="c-42"))

    assert second.output == "Still in."
    stored = SQLiteSession("c-42", str(tmp_path / "conversations.db")).get_messages()
    assert stored == first.new_messages + second.new_messages  # each message once, in order
    assert [m["role"] for m in model.chat_requests[2]["messages"]] == ["user", "assistant", "tool", "assistant", "user"]
    with pytest.raises(ValueError, match="not both"):
        bot.run("Hi", session="c-42", history=[])


def test_a_paused_run_resumes_with_approvals(dbos_config: dict[str, Any], tmp_path: Path) -> None:
    from dbos import DBOS

    from mistral_agents.durable import DBOSAgent

    refunds: list[str] = []

    @tool(requires_approval=True)
    def refund(transaction_id: str) -> str:
        """Refund a transaction.

        Args:
            transaction_id: The transaction.
        """
        refunds.append(transaction_id)
        return "refunded"

    model = OfflineModel(script=[Reply.tool_call("refund", {"transaction_id": "T1"}), "Refunded T1."])
    bot = DBOSAgent(make_agent(model, [refund]), name="refunds", sessions=f"sqlite:///{tmp_path / 'conversations.db'}")
    DBOS.launch()

    paused = bot.run("Refund T1", workflow_id="ask", session="c-1")
    assert paused.paused and refunds == []
    (pending,) = paused.pending
    resumed = bot.run(None, workflow_id="decide", session="c-1", approvals={pending.tool_call_id: True})

    assert resumed.output == "Refunded T1." and refunds == ["T1"]
    assert bot.run(None, workflow_id="decide", session="c-1", approvals={pending.tool_call_id: True}) == resumed
    assert refunds == ["T1"]
