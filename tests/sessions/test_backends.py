"""Each backend (SQLite, PostgreSQL, Redis) against a real store: exact storage, bad input, the run lock."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from mistral_agents import ChatMessage
from mistral_agents.models import FunctionCall, ToolCall
from mistral_agents.sessions import (
    LockingSession,
    Session,
    SessionBusyError,
    SessionDataError,
    SQLiteSession,
    open_session,
)

from .conftest import make, new_id

CONVERSATION = [
    ChatMessage(role="user", content="Refund T1001, s'il vous plaît ✓"),
    ChatMessage(
        role="assistant",
        content="",
        tool_calls=[ToolCall(id="aB3dE5fG7", function=FunctionCall(name="refund", arguments='{"id": "T1001"}'))],
        vendor_field={"nested": [1, 2.5, None, "\u0000x"]},
    ),
    ChatMessage(role="tool", tool_call_id="aB3dE5fG7", name="refund", content='{"ok": true}'),
    ChatMessage.model_validate({"role": "assistant", "content": [{"type": "text", "text": "Done."}], "prefix": None}),
]


def test_what_is_read_back_equals_what_was_written(store: str) -> None:
    session = make(store)
    other = make(store)
    assert isinstance(session, Session) and isinstance(session, LockingSession)
    session.add_messages(CONVERSATION[:2])
    session.add_messages(CONVERSATION[2:])
    other.add_messages([ChatMessage(role="user", content="someone else")])

    assert session.get_messages() == CONVERSATION
    assert make(store, session.session_id).get_messages() == CONVERSATION  # a new object, same conversation
    session.clear()
    assert session.get_messages() == [] and len(other.get_messages()) == 1


async def test_the_async_twins(store: str) -> None:
    session = make(store)
    await session.aadd_messages(CONVERSATION)
    assert await session.aget_messages() == CONVERSATION
    await session.aclear()
    assert await session.aget_messages() == []


def test_a_second_run_on_a_busy_conversation_raises_before_anything_happens(store: str) -> None:
    holder = make(store)
    waiter = make(store, holder.session_id, lock_timeout=0)
    patient = make(store, holder.session_id, lock_timeout=0.3)
    elsewhere = make(store, lock_timeout=0)
    with holder.lock():
        with pytest.raises(SessionBusyError, match="busy"):
            with waiter.lock():
                pass
        with pytest.raises(SessionBusyError):
            with patient.lock():
                pass
        with elsewhere.lock():  # another conversation never waits
            pass
    with waiter.lock():  # released
        pass


def test_a_waiting_run_gets_the_lock_when_the_holder_ends(store: str) -> None:
    holder = make(store)
    waiter = make(store, holder.session_id, lock_timeout=30)
    spans: dict[str, tuple[float, float]] = {}

    def hold() -> None:
        with holder.lock():
            start = time.monotonic()
            time.sleep(0.3)
            spans["holder"] = (start, time.monotonic())

    thread = threading.Thread(target=hold)
    thread.start()
    time.sleep(0.05)
    with waiter.lock():
        spans["waiter"] = (time.monotonic(), time.monotonic())
    thread.join()
    assert spans["waiter"][0] >= spans["holder"][1]  # the two never overlapped


async def test_the_async_lock(store: str) -> None:
    holder = make(store)
    waiter = make(store, holder.session_id, lock_timeout=0)
    async with holder.alock():
        with pytest.raises(SessionBusyError):
            async with waiter.alock():
                pass
    async with waiter.alock():
        await asyncio.sleep(0)


def test_a_lock_held_by_a_killed_process_does_not_block_the_conversation_for_long(store: str, tmp_path: Path) -> None:
    session_id = new_id()
    options = {"prefix": "ma-test-kill:"} if store.startswith("redis") else {}
    extra = {"lease": 1.0} if not store.startswith("postgres") else {}
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from mistral_agents.sessions import open_session
        session = open_session({store!r}, {session_id!r}, **{ {**options, **extra}!r})
        lock = session.lock()
        lock.__enter__()
        print("locked", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert process.stdout.strip() == "locked" and process.returncode == -9
    session = open_session(store, session_id, lock_timeout=10, **options, **extra)
    started = time.monotonic()
    with session.lock():
        pass
    assert time.monotonic() - started < 10


def test_a_corrupted_row_is_a_clear_error_and_nothing_is_lost(store: str) -> None:
    session = make(store)
    session.add_messages(CONVERSATION)
    _corrupt(store, session)

    with pytest.raises(SessionDataError, match=rf"session '{session.session_id}': stored message .* cannot be read"):
        session.get_messages()
    with pytest.raises(SessionDataError):
        session.add_messages([ChatMessage(role="user", content="more")])  # writes still work...
        session.get_messages()  # ...and reads still say what is wrong
    _count = _rows(store, session)
    assert _count == len(CONVERSATION) + 2  # nothing was removed


def _corrupt(store: str, session: Any) -> None:
    if store.startswith("sqlite"):
        with sqlite3.connect(session.path) as conn:
            conn.execute(
                "INSERT INTO mistral_agents_messages (session_id, message, created_at) VALUES (?, ?, 0)",
                (session.session_id, '{"content": "no role", '),
            )
    elif store.startswith("postgres"):
        import psycopg

        with psycopg.connect(store) as conn:
            conn.execute(
                "INSERT INTO mistral_agents_messages (session_id, message) VALUES (%s, %s)",
                (session.session_id, '{"content": "no role"}'),
            )
    else:
        session._client.rpush(session.key, b"\xff not json")


def _rows(store: str, session: Any) -> int:
    if store.startswith("sqlite"):
        with sqlite3.connect(session.path) as conn:
            row = conn.execute(
                "SELECT count(*) FROM mistral_agents_messages WHERE session_id = ?", (session.session_id,)
            ).fetchone()
            return int(row[0])
    if store.startswith("postgres"):
        import psycopg

        with psycopg.connect(store) as conn:
            row = conn.execute(
                "SELECT count(*) FROM mistral_agents_messages WHERE session_id = %s", (session.session_id,)
            ).fetchone()
            assert row is not None
            return int(row[0])
    return int(session._client.llen(session.key))


def test_redis_ttl_expires_a_quiet_conversation(redis_url: str) -> None:
    session = make(redis_url, ttl=1)
    session.add_messages(CONVERSATION[:1])
    ttl = session._client.pttl(session.key)
    assert 0 < ttl <= 1000
    make(redis_url).add_messages(CONVERSATION[:1])  # no ttl: no expiry


@pytest.mark.parametrize(
    "url",
    ["mysql://user:secret@db/app", "sqlit:///x.db", "conversations.db", "http://127.0.0.1:8000"],
)
def test_an_unknown_store_url_is_a_clear_error_without_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="unknown session store") as caught:
        open_session(url, "s")
    assert "secret" not in str(caught.value) and "sqlite:///" in str(caught.value)


def test_open_session_reads_sqlite_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    relative = open_session("sqlite:///relative.db", "s")
    absolute = open_session(f"sqlite:///{tmp_path / 'absolute.db'}", "s")
    memory = open_session("sqlite://:memory:", "s")
    assert isinstance(relative, SQLiteSession) and Path(relative.path).resolve() == tmp_path / "relative.db"
    assert isinstance(absolute, SQLiteSession) and absolute.path == str(tmp_path / "absolute.db")
    assert isinstance(memory, SQLiteSession) and memory.path == ":memory:"


def test_bad_arguments_are_clear() -> None:
    with pytest.raises(ValueError, match="session_id"):
        SQLiteSession("")
    with pytest.raises(ValueError, match="lock_timeout"):
        SQLiteSession("s", lock_timeout=-1)


def test_importing_the_package_loads_neither_psycopg_nor_redis() -> None:
    code = (
        "import sys, mistral_agents, mistral_agents.sessions; "
        "from mistral_agents.sessions import SQLiteSession; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'psycopg_pool', 'redis')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_a_missing_extra_is_an_import_error_naming_it() -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["psycopg"] = None
        sys.modules["redis"] = None
        from mistral_agents import sessions
        for name in ("PostgresSession", "RedisSession"):
            try:
                getattr(sessions, name)
            except ImportError as error:
                print(error)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert 'pip install "mistral-agents[postgres]"' in out and 'pip install "mistral-agents[redis]"' in out
