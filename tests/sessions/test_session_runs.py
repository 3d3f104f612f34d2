"""session= on every run method: history loaded, the run's messages stored, failures keep what completed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from mistral_agents import Agent, ChatMessage, MaxStepsExceeded, MistralAsyncClient, ToolError, tool
from mistral_agents.exceptions import MistralException
from mistral_agents.sessions import SessionBusyError, SQLiteSession
from mistral_agents.testing import OfflineModel, Reply, check_chat_request
from tests.agent.helpers import MODEL, Harness, retrieve_payment_status


def stored_roles(session: SQLiteSession) -> list[str]:
    return [m.role for m in session.get_messages()]


def assert_valid(session: SQLiteSession, system: str = "You help.") -> None:
    """The stored conversation, as a request, is one the hosted API accepts."""
    from mistral_agents._wire import message_dict

    messages = [{"role": "system", "content": system}, *(message_dict(m) for m in session.get_messages())]
    if messages[-1]["role"] == "assistant":
        messages.append({"role": "user", "content": "next"})
    assert check_chat_request({"model": MODEL, "messages": messages}) is None


@pytest.mark.parametrize("style", ["run", "stream"])
async def test_a_session_carries_the_conversation_across_runs(h: Harness, style: str) -> None:
    model = OfflineModel()  # the demo policy: looks the transaction up, then answers
    agent = h.agent(model, [retrieve_payment_status], system_prompt="You help.")
    session = SQLiteSession("customer-42")

    async def turn(prompt: str) -> Any:
        if style == "run":
            return (await h.run(agent, prompt, session=session)).output
        return [e for e in await h.stream(agent, prompt, session=session)][-1].result.output

    assert await turn("What's the status of my transaction T1001?") == "The status of transaction T1001 is Paid."
    await turn("Thanks!")

    assert stored_roles(session) == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    second = model.chat_requests[-1]["messages"]
    assert second[0] == {"role": "system", "content": "You help."}  # the agent's prompt, not a stored one
    assert [m["role"] for m in second[1:]] == stored_roles(session)[:-1]
    assert all(m.role != "system" for m in session.get_messages())
    assert model.rejections == []


async def test_session_and_history_together_are_a_value_error(h: Harness) -> None:
    agent = h.agent(OfflineModel(script=[]))
    with pytest.raises(ValueError, match="not both"):
        await h.run(agent, "hi", session=SQLiteSession("s"), history=[])


async def test_an_api_error_after_a_tool_step_keeps_the_prompt_and_the_finished_step(h: Harness) -> None:
    ran: list[str] = []

    @tool
    def send_refund(transaction_id: str) -> str:
        """Send a refund (a side effect).

        Args:
            transaction_id: The transaction id.
        """
        ran.append(transaction_id)
        return "sent"

    calls = iter([Reply.tool_call("send_refund", {"transaction_id": "T1001"})])

    def policy(request: dict[str, Any]) -> Any:
        reply = next(calls, None)
        if reply is None:
            return Reply.error(400, {"message": "the model is down"})
        return reply

    model = OfflineModel(policy=policy)
    agent = h.agent(model, [send_refund], system_prompt="You help.")
    session = SQLiteSession("s")

    with pytest.raises(MistralException):
        await h.run(agent, "Refund T1001", session=session)

    assert ran == ["T1001"]
    assert stored_roles(session) == ["user", "assistant", "tool"]  # the side effect is never forgotten
    assert_valid(session)


@pytest.mark.parametrize(
    ("transaction", "options", "error"),
    [("T1001", {"max_steps": 2}, MaxStepsExceeded), ("T9", {"max_tool_errors": 1}, ToolError)],
    ids=["max-steps", "tool-errors"],
)
async def test_max_steps_and_tool_errors_store_every_finished_step(
    h: Harness, transaction: str, options: dict[str, int], error: type[Exception]
) -> None:
    model = OfflineModel(script=[Reply.tool_call("retrieve_payment_status", {"transaction_id": transaction})] * 2)
    agent = h.agent(model, [retrieve_payment_status], system_prompt="You help.", **options)
    session = SQLiteSession("s")
    with pytest.raises(error):
        await h.run(agent, "status?", session=session)
    assert stored_roles(session) == ["user", "assistant", "tool", "assistant", "tool"]
    assert_valid(session)


async def test_a_failure_on_the_first_model_call_keeps_the_prompt_and_the_next_run_is_valid(h: Harness) -> None:
    replies = iter([Reply.error(400, {"message": "nope"})])
    model = OfflineModel(policy=lambda request: next(replies, "Hello again."))
    agent = h.agent(model, system_prompt="You help.")
    session = SQLiteSession("s")
    with pytest.raises(MistralException):
        await h.run(agent, "first", session=session)
    assert stored_roles(session) == ["user"]

    result = await h.run(agent, "second", session=session)
    assert result.output == "Hello again." and stored_roles(session) == ["user", "user", "assistant"]
    assert model.rejections == []


async def test_a_cancelled_async_run_stores_the_finished_tool_step() -> None:
    started = asyncio.Event()

    @tool
    async def slow_lookup(transaction_id: str) -> str:
        """Look a transaction up slowly.

        Args:
            transaction_id: The transaction id.
        """
        started.set()
        await asyncio.sleep(60)
        return "never"

    @tool
    def quick_lookup(transaction_id: str) -> str:
        """Look a transaction up.

        Args:
            transaction_id: The transaction id.
        """
        return "found"

    model = OfflineModel(
        script=[
            Reply.tool_call("quick_lookup", {"transaction_id": "T1"}),
            Reply.tool_call("slow_lookup", {"transaction_id": "T2"}),
        ]
    )
    client = MistralAsyncClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, [slow_lookup, quick_lookup], client=client)
    session = SQLiteSession("s")
    task = asyncio.create_task(agent.arun("look both up", session=session))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await client.close()

    # the prompt and the finished quick step; the unfinished slow step is not stored (the next run stays valid)
    assert stored_roles(session) == ["user", "assistant", "tool"]
    assert_valid(session)


def test_a_stream_abandoned_midway_stores_what_completed_and_releases_the_lock() -> None:
    model = OfflineModel()
    from mistral_agents import MistralClient

    client = MistralClient(endpoint="http://offline", transport=model.transport(), max_retries=0)
    agent = Agent(MODEL, [retrieve_payment_status], client=client)
    session = SQLiteSession("s", lock_timeout=0)
    events = agent.run_stream("What's the status of my transaction T1001?", session=session)
    for event in events:
        if type(event).__name__ == "ToolResultEvent":
            break
    events.close()  # type: ignore[attr-defined]

    assert stored_roles(session) == ["user", "assistant", "tool"]
    agent.run("thanks", session=session)  # lock_timeout=0: would raise SessionBusyError if still held
    client.close()


async def test_stored_messages_keep_unknown_fields_exactly() -> None:
    session = SQLiteSession("s")
    messages = [
        ChatMessage(role="user", content=[{"type": "text", "text": "héllo"}], vendor={"x": [1, 2.5, None]}),
        ChatMessage.model_validate({"role": "assistant", "content": "hi", "prefix": None, "extra": "kept"}),
    ]
    await session.aadd_messages(messages)
    assert await session.aget_messages() == messages
    await session.aclear()
    assert session.get_messages() == []


class ListSession:
    """A user's own store: only the protocol's methods (no lock), as the docs say one may write."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.messages: list[ChatMessage] = []

    def get_messages(self) -> list[ChatMessage]:
        return list(self.messages)

    def add_messages(self, messages: Sequence[ChatMessage]) -> None:
        self.messages.extend(messages)

    def clear(self) -> None:
        self.messages.clear()

    async def aget_messages(self) -> list[ChatMessage]:
        return self.get_messages()

    async def aadd_messages(self, messages: Sequence[ChatMessage]) -> None:
        self.add_messages(messages)

    async def aclear(self) -> None:
        self.clear()


async def test_a_session_of_your_own_needs_only_the_protocol(h: Harness) -> None:
    model = OfflineModel()
    agent = h.agent(model, [retrieve_payment_status])
    session = ListSession("mine")
    await h.run(agent, "What's the status of my transaction T1002?", session=session)
    await h.run(agent, "And the date?", session=session)
    assert [m.role for m in session.messages] == ["user", "assistant", "tool", "assistant", "user", "assistant"]
    with pytest.raises(TypeError, match="Session protocol"):
        await h.run(agent, "hi", session=object())  # type: ignore[arg-type]


async def test_a_run_on_a_busy_conversation_raises_before_sending_anything(h: Harness, tmp_path: Path) -> None:
    model = OfflineModel(script=["never sent"])
    agent = h.agent(model)
    holder = SQLiteSession("busy", tmp_path / "s.db")
    waiter = SQLiteSession("busy", tmp_path / "s.db", lock_timeout=0)
    with holder.lock():
        with pytest.raises(SessionBusyError, match="busy"):
            await h.run(agent, "hello", session=waiter)
    assert model.chat_requests == [] and waiter.get_messages() == []
    assert (await h.run(agent, "hello", session=waiter)).output == "never sent"  # free again
