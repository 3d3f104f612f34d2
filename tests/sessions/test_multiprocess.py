"""Real processes on one conversation: concurrent runs never interleave or lose a turn; a paused run resumes in
another process. Each backend runs against a real store and the offline model on a loopback HTTP server."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from mistral_agents._wire import message_dict
from mistral_agents.sessions import open_session
from mistral_agents.testing import OfflineModel, OfflineServer, check_chat_request

from .conftest import REDIS_PREFIX, new_id

WORKERS, TURNS = 8, 25
SYSTEM = "You are a payments support assistant."

AGENT = textwrap.dedent(
    """
    import asyncio, json, sys
    from mistral_agents import Agent, MistralClient, tool
    from mistral_agents.sessions import open_session

    endpoint, store, session_id, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
    STATUS = {"T1001": "Paid", "T1002": "Unpaid", "T1003": "Pending"}

    @tool
    def retrieve_payment_status(transaction_id: str) -> dict:
        '''Get the payment status of a transaction.

        Args:
            transaction_id: The transaction id, e.g. T1001.
        '''
        return {"status": STATUS.get(transaction_id, "Unknown")}

    @tool(requires_approval=True)
    def refund_payment(transaction_id: str) -> str:
        '''Refund a payment.

        Args:
            transaction_id: The transaction id, e.g. T1001.
        '''
        print("REFUNDED", transaction_id, flush=True)
        return f"refund of {transaction_id} sent"

    client = MistralClient(endpoint=endpoint, max_retries=0)
    agent = Agent("mistral-large-latest", [retrieve_payment_status, refund_payment], client=client,
                  system_prompt="You are a payments support assistant.")
    session = open_session(store, session_id, **options)
    """
)

TURNS_SCRIPT = AGENT + textwrap.dedent(
    """
    worker, turns = int(sys.argv[5]), int(sys.argv[6])
    prompts = [f"What's the status of my transaction T100{1 + (worker + turn) % 3}? (worker {worker}, turn {turn})"
               for turn in range(turns)]
    if worker % 2:
        for prompt in prompts:
            agent.run(prompt, session=session)
    else:
        async def main():
            for prompt in prompts:
                await agent.arun(prompt, session=session)
        asyncio.run(main())
    print("done", worker, flush=True)
    """
)


@pytest.fixture(scope="module")
def server() -> Iterator[OfflineServer]:
    with OfflineServer(OfflineModel()) as running:
        yield running


def options_for(store: str) -> dict[str, Any]:
    return {"prefix": REDIS_PREFIX} if store.startswith("redis") else {}


def spawn(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_concurrent_processes_on_one_conversation_store_every_turn_whole(store: str, server: OfflineServer) -> None:
    session_id = new_id()
    options = json.dumps(options_for(store))
    processes = [
        spawn(TURNS_SCRIPT, server.url, store, session_id, options, str(w), str(TURNS)) for w in range(WORKERS)
    ]
    for process in processes:
        _, err = process.communicate(timeout=300)
        assert process.returncode == 0, err[-2000:]

    stored = open_session(store, session_id, **options_for(store)).get_messages()
    users = [m.content for m in stored if m.role == "user"]
    expected = {f"(worker {w}, turn {t})" for w in range(WORKERS) for t in range(TURNS)}
    assert len(users) == WORKERS * TURNS and {str(u).rsplit("? ", 1)[1] for u in users} == expected
    # every turn whole and in order: question, tool call, its result, answer — never another run in between
    for start in range(0, len(stored), 4):
        turn = stored[start : start + 4]
        assert [m.role for m in turn] == ["user", "assistant", "tool", "assistant"], turn
        assert turn[2].tool_call_id == turn[1].tool_calls[0].id  # type: ignore[index]
        transaction = str(turn[0].content).split("transaction ")[1][:5]
        assert transaction in turn[3].content  # type: ignore[operator]
    for worker in range(WORKERS):  # each worker's turns in its own order
        mine = [u for u in users if f"(worker {worker}," in str(u)]
        assert mine == sorted(mine, key=lambda u: int(str(u).rsplit("turn ", 1)[1].rstrip(")")))
    body = {"model": "m", "messages": [{"role": "system", "content": SYSTEM}, *map(message_dict, stored)]}
    body["messages"].append({"role": "user", "content": "one more"})
    assert check_chat_request(body) is None


RESUME_SCRIPT = AGENT + textwrap.dedent(
    """
    action = sys.argv[5]
    if action == "ask":
        result = agent.run("Please refund payment T1002", session=session)
        print(json.dumps({"paused": result.paused, "pending": [p.to_data() for p in result.pending]}))
    else:
        decisions = json.loads(sys.argv[6])
        try:
            result = agent.run(None, session=session, approvals=decisions)
        except ValueError as error:
            print(json.dumps({"error": str(error)}))
        else:
            print(json.dumps({"paused": result.paused, "output": result.output}))
    """
)


@pytest.mark.parametrize("store", ["sqlite", "postgres"], indirect=True)
def test_a_paused_run_resumes_in_another_process(store: str, server: OfflineServer) -> None:
    session_id, options = new_id(), json.dumps(options_for(store))

    def run(*args: str) -> tuple[dict[str, Any], str]:
        process = spawn(RESUME_SCRIPT, server.url, store, session_id, options, *args)
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        lines = out.strip().splitlines()
        return json.loads(lines[-1]), "\n".join(lines[:-1])

    asked, side_effects = run("ask")
    [pending] = asked["pending"]
    assert asked["paused"] and pending["name"] == "refund_payment" and side_effects == ""
    assert json.loads(pending["arguments"]) == {"transaction_id": "T1002"}

    refused, side_effects = run("resume", json.dumps({"aB3dE5fG7": True}))  # not pending: nothing runs
    assert "not pending approval" in refused["error"] and side_effects == ""

    resumed, side_effects = run("resume", json.dumps({pending["tool_call_id"]: True}))
    assert side_effects == "REFUNDED T1002"  # the stored arguments, in the other process
    assert resumed["paused"] is False and "T1002" in resumed["output"]

    stored = open_session(store, session_id).get_messages()
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[2].content == "refund of T1002 sent"


CRASH_SCRIPT = textwrap.dedent(
    """
    import json, os, signal, sys
    from mistral_agents import Agent, MistralClient, tool
    from mistral_agents.sessions import open_session

    endpoint, store, session_id, options = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])

    @tool
    def send_refund(transaction_id: str) -> str:
        '''Send a refund.

        Args:
            transaction_id: The transaction id.
        '''
        return "sent"

    @tool
    def crash(transaction_id: str) -> str:
        '''Crash the process.

        Args:
            transaction_id: The transaction id.
        '''
        os.kill(os.getpid(), signal.SIGKILL)

    client = MistralClient(endpoint=endpoint, max_retries=0)
    agent = Agent("mistral-large-latest", [send_refund, crash], client=client)
    agent.run("Refund T1001, then crash", session=open_session(store, session_id, **options))
    """
)


def test_a_process_killed_mid_run_keeps_its_finished_steps_and_frees_the_conversation(store: str) -> None:
    from mistral_agents.testing import Reply

    script = [
        Reply.tool_call("send_refund", {"transaction_id": "T1001"}),
        Reply.tool_call("crash", {"transaction_id": "x"}),
    ]
    session_id = new_id()
    options = {**options_for(store), **({} if store.startswith("postgres") else {"lease": 1.0})}
    with OfflineServer(OfflineModel(script=[*script, "Hello again."])) as server:
        process = spawn(CRASH_SCRIPT, server.url, store, session_id, json.dumps(options))
        _, err = process.communicate(timeout=120)
        assert process.returncode == -9, err[-2000:]

        session = open_session(store, session_id, lock_timeout=20, **options)
        stored = session.get_messages()
        assert [m.role for m in stored] == ["user", "assistant", "tool"]  # the refund was sent: never forgotten
        assert stored[2].content == "sent"

        from mistral_agents import Agent, MistralClient

        with MistralClient(endpoint=server.url, max_retries=0) as client:
            result = Agent("mistral-large-latest", client=client).run("are you there?", session=session)
        assert result.output == "Hello again."
        assert [m.role for m in session.get_messages()] == ["user", "assistant", "tool", "user", "assistant"]
