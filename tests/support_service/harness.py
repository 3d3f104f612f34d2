"""Real processes for the support-service tests: the offline model server and the app under uvicorn.

Both are started as a user would (``python -m mistral_agents.testing serve``, ``uvicorn ... --workers N``), on free
ports of 127.0.0.1 (port 0: each tells the port it got), and stopped with SIGTERM (SIGKILL if that is not enough).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
APP = "examples.support_service.app:app"
#: What every worker of a test's service shares: the signing key, the demo sign-in and its staff password.
SECRET_KEY = "test-secret-key-not-for-production"
STAFF_PASSWORD = "test-staff-password"


class Process:
    """A child process whose merged output is read by a thread (so a full pipe never blocks it) and searchable."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.args = args
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, start_new_session=True,
        )  # fmt: skip
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "\n".join(self.lines)

    def wait_for(self, pattern: str, count: int = 1, timeout: float = 60.0) -> list[re.Match[str]]:
        """Wait until ``count`` output lines match ``pattern``; fail with the output if the process exits first."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = [m for m in map(regex.search, self.lines) if m]
                if len(found) >= count:
                    return found
                if self.popen.poll() is not None and not self._reader.is_alive():
                    raise RuntimeError(f"{self.args[:4]} exited ({self.popen.returncode}):\n" + "\n".join(self.lines))
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {count} x {pattern!r} from {self.args[:4]}:\n" + "\n".join(self.lines))
                self._changed.wait(min(left, 0.5))

    def stop(self) -> None:
        """SIGTERM the process group (uvicorn's workers with it), SIGKILL after 15 s."""
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(5)
        self._reader.join(5)
        if self.popen.stdout is not None:
            self.popen.stdout.close()


def child_env(**extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("MISTRAL_API_KEY", "MISTRAL_ENDPOINT")}
    env["PYTHONUNBUFFERED"] = "1"
    return {**env, **extra}


@contextlib.contextmanager
def offline_model_server() -> Iterator[str]:
    """``python -m mistral_agents.testing serve --port 0``: its URL."""
    process = Process([sys.executable, "-m", "mistral_agents.testing", "serve", "--port", "0"], child_env())
    try:
        (match,) = process.wait_for(r"listening on (http://127\.0\.0\.1:\d+)", timeout=30)
        yield match[1]
    finally:
        process.stop()


@dataclass
class Service:
    url: str
    process: Process
    workers: int


@contextlib.contextmanager
def support_service(model_url: str, database: str, workers: int) -> Iterator[Service]:
    """The app under ``uvicorn --workers N`` on a free port, talking to ``model_url``, storing in ``database``."""
    args = [sys.executable, "-m", "uvicorn", APP, "--host", "127.0.0.1", "--port", "0", "--no-access-log"]
    if workers > 1:
        args += ["--workers", str(workers)]
    env = child_env(
        MISTRAL_ENDPOINT=model_url, SUPPORT_DATABASE=database, SUPPORT_SECRET_KEY=SECRET_KEY,
        SUPPORT_STAFF_PASSWORD=STAFF_PASSWORD, SUPPORT_DEMO_LOGIN="1",
    )  # fmt: skip
    process = Process(args, env)
    try:
        (running,) = process.wait_for(r"Uvicorn running on (http://127\.0\.0\.1:\d+)", timeout=60)
        process.wait_for(r"Application startup complete", count=workers, timeout=60)
        yield Service(running[1], process, workers)
    except BaseException:
        process.stop()
        print(f"--- uvicorn output ---\n{process.output}")  # shown by pytest with the failure
        raise
    finally:
        process.stop()


# --- the client side of the SSE protocol --------------------------------------------------------------------


@dataclass
class Answer:
    """What one streamed request returned: its events in order, and which worker served it."""

    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    worker: str = ""

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [data for name, data in self.events if name == kind]

    @property
    def kinds(self) -> list[str]:
        return [name for name, _ in self.events]

    @property
    def text(self) -> str:
        return "".join(data["delta"] for data in self.of("text"))


def parse_sse(body: str) -> list[tuple[str, dict[str, Any]]]:
    """Server-sent events (``event:`` + ``data:`` lines, blank-line separated) with JSON data."""
    events = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].removeprefix(" "))
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


@dataclass
class SignedIn:
    """A client whose cookie jar holds a credential, and that credential's CSRF token."""

    http: httpx.AsyncClient
    csrf: str


async def sign_in(http: httpx.AsyncClient, role: str, name: str) -> str:
    """The demo sign-in as a customer (``name`` is the id) or a staff member: the CSRF token (the cookie is in
    ``http``'s jar)."""
    if role == "customer":
        response = await http.post("/api/demo/customer", json={"customer_id": name})
    else:
        response = await http.post("/api/demo/staff", json={"name": name, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    return token


async def post_events(http: httpx.AsyncClient, path: str, body: dict[str, Any], csrf: str) -> Answer:
    headers = {"Accept": "text/event-stream", "X-CSRF-Token": csrf}
    async with http.stream("POST", path, json=body, headers=headers) as response:
        text = (await response.aread()).decode()
        assert response.status_code == 200, text
        assert response.headers["content-type"].startswith("text/event-stream")
        return Answer(parse_sse(text), response.headers.get("x-worker-pid", ""))
