"""Helpers for the crash tests: the offline model on a loopback server, and the app as a real process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mistral_agents.testing import OfflineModel, OfflineServer, Reply

APP = Path(__file__).with_name("app.py")
WAIT = 60.0  # seconds before a marker that never comes fails the test (a bug, not a slow machine)


def policy(body: dict[str, Any]) -> Reply | str:
    """``one ...`` asks for one tool call, ``three ...`` for three in parallel; then it sums the results up."""
    messages = body["messages"]
    if messages[-1]["role"] == "user":
        prompt = messages[-1]["content"]
        keys = ["refund"] if prompt.startswith("one") else ["a", "b", "c"]
        return Reply.tool_calls([("work_on", {"key": key}) for key in keys])
    return "Finished: " + "; ".join(m["content"] for m in messages if m["role"] == "tool")


@dataclass
class Gate:
    """Holds the first model request that carries tool results until the test has killed its sender."""

    arrived: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    used: bool = False

    def policy(self, body: dict[str, Any]) -> Reply | str:
        if not self.used and body["messages"][-1]["role"] == "tool":
            self.used = True
            self.arrived.set()
            self.release.wait(WAIT)
        return policy(body)


@contextmanager
def offline_server(gate: Gate | None = None) -> Iterator[tuple[OfflineModel, OfflineServer]]:
    model = OfflineModel(policy=gate.policy if gate else policy)
    with model.server() as server:
        try:
            yield model, server
        finally:
            if gate:
                gate.release.set()


def chat_log(model: OfflineModel, workflow_id: str) -> list[tuple[int, str]]:
    """The chat requests one run sent, as (number of messages, last role): what the model was asked, in order."""
    return [
        (len(r.json["messages"]), r.json["messages"][-1]["role"])
        for r in model.requests
        if r.path.endswith("/chat/completions") and r.headers.get("x-workflow-id") == workflow_id
    ]


class App:
    """One run of ``app.py`` as a child process."""

    def __init__(self, work: Path, db: str, url: str, workflow: str, prompt: str, *extra: str) -> None:
        self.work = work
        self.log = work / f"app-{time.monotonic_ns()}.log"
        args = ["--db", db, "--url", url, "--dir", str(work), "--workflow", workflow, "--prompt", prompt, *extra]
        env = {k: v for k, v in os.environ.items() if k != "MISTRAL_API_KEY"}
        with self.log.open("w") as out:
            self.process = subprocess.Popen([sys.executable, str(APP), *args], stdout=out, stderr=out, env=env)

    def wait_for(self, *markers: str, condition: Any = None) -> None:
        """Until the markers exist (and ``condition()`` holds); fails at once if the process ends first."""
        deadline = time.monotonic() + WAIT
        while not (all((self.work / m).exists() for m in markers) and (condition is None or condition())):
            if self.process.poll() is not None:
                raise AssertionError(f"the app exited ({self.process.returncode}) early:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{markers} never appeared:\n{self.log.read_text()}")
            time.sleep(0.02)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(WAIT)

    def finish(self) -> None:
        code = self.process.wait(WAIT)
        assert code == 0, self.log.read_text()


def count(work: Path, run: str, key: str) -> int:
    """How many times the tool's side effect happened for ``key`` in run ``run``."""
    path = work / f"{run}.{key}.count"
    return len(path.read_text().splitlines()) if path.exists() else 0


def result(work: Path, workflow_id: str) -> dict[str, Any]:
    """A run's RunResult as JSON; durations are measurements, not outcomes, so they are left out."""
    data: dict[str, Any] = json.loads((work / f"{workflow_id}.json").read_text())
    for call in data["tool_calls"]:
        call.pop("duration")
    return data


def session_messages(store: str, session_id: str) -> list[dict[str, Any]]:
    """What a run stored in its session, as JSON data (read through a pool closed after, on PostgreSQL)."""
    from mistral_agents import messages_to_json
    from mistral_agents.sessions import PostgresSession, open_session

    if not store.startswith("postgresql"):
        return list(json.loads(messages_to_json(open_session(store, session_id).get_messages())))
    from psycopg_pool import ConnectionPool

    with ConnectionPool(store, min_size=1, max_size=1, open=True) as pool:
        return list(json.loads(messages_to_json(PostgresSession(session_id, pool).get_messages())))
