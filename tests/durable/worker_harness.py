"""A worker of ``examples/durable_worker.py`` that the test can bring to a quiet point and SIGKILL.

``--pause-after N``: after its N-th chat request this worker sends no more requests and writes no more refunds (both
block, forever); once every run it has in flight is blocked that way, it writes ``<dir>/<executor>.quiet`` (the
ids of those runs). A kill then lands where no refund is half-recorded: its ledger line is written and its step
stored, or it never started. (A refund killed between the two would run again on recovery: that is the documented
at-least-once window of a non-idempotent tool, not what this test is about.)
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import httpx
from dbos import DBOS

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "durable_worker.py"
sys.path.insert(0, str(EXAMPLE.parents[1]))  # run by path: the repository's package


def load_example() -> Any:
    spec = importlib.util.spec_from_file_location("durable_worker", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


class Pause:
    def __init__(self, after: int | None) -> None:
        self.after = after
        self.lock = threading.Lock()
        self.chats = 0
        self.paused = False
        self.blocked: set[str] = set()

    def before_chat(self) -> bool:
        """True when this request must not be sent."""
        with self.lock:
            self.chats += 1
            if self.after is not None and self.chats > self.after:
                self.paused = True
                self.blocked.add(DBOS.workflow_id or "?")
            return self.paused


def main() -> None:
    parser = argparse.ArgumentParser()
    for name in ("--db", "--executor-id", "--ledger", "--model-url", "--dir"):
        parser.add_argument(name, required=True)
    parser.add_argument("--pause-after", type=int, default=None)
    options = parser.parse_args()
    example = load_example()
    pause = Pause(options.pause_after)

    class PausingLedger(example.Ledger):  # type: ignore[misc, name-defined]
        def record(self, transaction_id: str) -> None:
            with pause.lock:
                if not pause.paused:
                    super().record(transaction_id)
                    return
                pause.blocked.add(f"refund-{transaction_id[1:]}")
            threading.Event().wait()

    class PausingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.sync = httpx.HTTPTransport()
            self.pools: dict[Any, httpx.AsyncHTTPTransport] = {}

        def handle_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/chat/completions") and pause.before_chat():
                threading.Event().wait()
            return self.sync.handle_request(request)

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/chat/completions") and pause.before_chat():
                await asyncio.Event().wait()
            pool = self.pools.setdefault(asyncio.get_running_loop(), httpx.AsyncHTTPTransport())
            return await pool.handle_async_request(request)

    ledger = PausingLedger(options.ledger)
    example.start_worker(options.db, options.executor_id, ledger, options.model_url, 8, PausingTransport())
    work = Path(options.dir)
    (work / f"{options.executor_id}.ready").write_text("ready")

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    quiet_written = False
    while not stop.wait(0.05):
        if not pause.paused or quiet_written:
            continue
        pending = {w.workflow_id for w in DBOS.list_workflows(status="PENDING", executor_id=options.executor_id)}
        with pause.lock:
            quiet = pending <= pause.blocked
        if quiet:
            marker = work / f"{options.executor_id}.quiet"
            marker.with_suffix(".tmp").write_text(json.dumps(sorted(pending)))
            marker.with_suffix(".tmp").rename(marker)  # whole, or not there
            quiet_written = True
    DBOS.destroy()


if __name__ == "__main__":
    main()
