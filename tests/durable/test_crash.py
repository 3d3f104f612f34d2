"""A durable run killed with SIGKILL at a known point finishes in the next process without repeating what was done.

Each test starts the app (``app.py``) as a real process against the offline model on a loopback server, waits for a
marker the app writes at the kill point, SIGKILLs it, starts it again (``DBOS.launch()`` recovers the run), and then
checks the tool's side-effect counters, the model's request log, and the result against an uninterrupted run.
Every test runs on SQLite (a file) and on PostgreSQL (a fresh database).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from .crash import App, Gate, chat_log, count, offline_server, result, session_messages

FIRST, AFTER_ONE_TOOL, AFTER_THREE_TOOLS = (1, "user"), (3, "tool"), (5, "tool")


@pytest.fixture(params=["sqlite", "postgres"])
def system_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'dbos.sqlite'}"
    dsn: str = request.getfixturevalue("postgres_database")
    return dsn


def test_killed_after_a_tool_before_the_next_model_call(tmp_path: Path, system_db: str) -> None:
    sessions = ("--sessions", _session_store(system_db, tmp_path))
    with offline_server() as (model, server):
        first = App(tmp_path, system_db, server.url, "t1", "one refund", "--pause-before-chat", "2", *sessions)
        first.wait_for("paused")  # the tool ran and its step is stored; the second model call is not sent
        first.kill()
        assert count(tmp_path, "t1", "refund") == 1
        App(tmp_path, system_db, server.url, "t1", "one refund", "--reference", *sessions).finish()

    assert count(tmp_path, "t1", "refund") == 1  # the refund did not run again
    assert chat_log(model, "t1") == [FIRST, AFTER_ONE_TOOL]  # the first model call was not re-sent
    assert result(tmp_path, "t1") == result(tmp_path, "t1-ref")
    assert result(tmp_path, "t1")["output"] == 'Finished: {"done":"refund"}'
    stored = session_messages(sessions[1], "t1")  # the conversation, each message once
    assert stored == result(tmp_path, "t1")["messages"] == session_messages(sessions[1], "t1-ref")
    assert [m["role"] for m in stored] == ["user", "assistant", "tool", "assistant"]


def test_killed_during_a_model_call(tmp_path: Path, system_db: str) -> None:
    gate = Gate()
    with offline_server(gate) as (model, server):
        first = App(tmp_path, system_db, server.url, "t2", "one refund")
        assert gate.arrived.wait(60), first.log.read_text()  # the second model call is at the server
        first.kill()
        gate.release.set()
        App(tmp_path, system_db, server.url, "t2", "one refund", "--reference").finish()

    assert count(tmp_path, "t2", "refund") == 1
    assert chat_log(model, "t2") == [FIRST, AFTER_ONE_TOOL, AFTER_ONE_TOOL]  # only the interrupted call, re-sent once
    assert result(tmp_path, "t2") == result(tmp_path, "t2-ref")


def test_killed_while_parallel_tools_run_reruns_only_the_unfinished(tmp_path: Path, system_db: str) -> None:
    sessions = ("--sessions", _session_store(system_db, tmp_path))
    with offline_server() as (model, server):
        first = App(tmp_path, system_db, server.url, "t3", "three pieces", "--hold", "b,c", *sessions)
        first.wait_for("b.holding", "c.holding", condition=lambda: _tool_steps_done(system_db, "t3") == 1)
        first.kill()
        assert [count(tmp_path, "t3", key) for key in "abc"] == [1, 1, 1]
        App(tmp_path, system_db, server.url, "t3", "three pieces", "--reference", *sessions).finish()

    assert [count(tmp_path, "t3", key) for key in "abc"] == [1, 2, 2]  # a finished before the kill: not again
    assert chat_log(model, "t3") == [FIRST, AFTER_THREE_TOOLS]
    assert result(tmp_path, "t3") == result(tmp_path, "t3-ref")
    assert [call["content"] for call in result(tmp_path, "t3")["tool_calls"]] == [
        '{"done":"a"}', '{"done":"b"}', '{"done":"c"}',
    ]  # fmt: skip
    assert session_messages(sessions[1], "t3") == result(tmp_path, "t3")["messages"]


def test_the_same_workflow_id_twice_is_one_run(tmp_path: Path, system_db: str) -> None:
    with offline_server() as (model, server):
        App(tmp_path, system_db, server.url, "t4", "one refund").finish()
        first = result(tmp_path, "t4")
        App(tmp_path, system_db, server.url, "t4", "one refund").finish()  # a client's retry, another process

    assert count(tmp_path, "t4", "refund") == 1
    assert chat_log(model, "t4") == [FIRST, AFTER_ONE_TOOL]
    assert result(tmp_path, "t4") == first


def _session_store(system_db: str, tmp_path: Path) -> str:
    """Conversations next to the workflows: the same PostgreSQL database, or a SQLite file of their own."""
    return system_db if system_db.startswith("postgresql") else f"sqlite:///{tmp_path / 'conversations.db'}"


def _tool_steps_done(system_db: str, workflow_id: str) -> int:
    """How many tool steps of the run have their output stored (read through DBOS's client, as an operator would)."""
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=system_db)
    try:
        steps = client.list_workflow_steps(workflow_id)
    except Exception:  # the run is not stored yet
        return 0
    finally:
        client.destroy()
    return sum(1 for s in steps if s["function_name"].startswith("crashbot.tool.") and s["output"] is not None)
