"""The durable app the crash tests start as a real process (and SIGKILL): ``python tests/durable/app.py ...``.

It runs one ``DBOSAgent`` against the offline model served by the test process, with a tool whose side effect is a
line appended to a file (``<dir>/<run>.<key>.count``). Kill points are markers this process writes, so the test kills
it at a known place, never after a guessed delay:

- ``--pause-before-chat N``: before sending its N-th chat request, write ``<dir>/paused`` and wait forever;
- ``--hold KEY,...``: the tool call for such a key writes ``<dir>/<key>.holding`` after counting, and never returns.

With ``--sessions URL``, each run keeps its conversation in the session named like its workflow id.
Each model request carries ``x-workflow-id`` so the server's log tells runs apart. With ``--reference``, after the
run it also makes an uninterrupted run of the same prompt (workflow id ``<id>-ref``) for comparison.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run by path: the repository's package

from dbos import DBOS

from mistral_agents import Agent, MistralClient, RunContext, tool
from mistral_agents.durable import DBOSAgent


class MarkingTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Real HTTP to the test's server; tags requests with the workflow id; can pause before the N-th chat call."""

    def __init__(self, work: Path, pause_before_chat: int | None) -> None:
        self.work = work
        self.pause_before_chat = pause_before_chat
        self.chats = 0
        self.lock = threading.Lock()
        self.sync = httpx.HTTPTransport()
        self.pools: dict[Any, httpx.AsyncHTTPTransport] = {}

    def _tag(self, request: httpx.Request) -> bool:
        request.headers["x-workflow-id"] = DBOS.workflow_id or "-"
        if not request.url.path.endswith("/chat/completions"):
            return False
        with self.lock:
            self.chats += 1
            pause = self.chats == self.pause_before_chat
        if pause:
            (self.work / "paused").write_text("paused")
        return pause

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._tag(request):
            threading.Event().wait()
        return self.sync.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._tag(request):
            await asyncio.Event().wait()
        loop = asyncio.get_running_loop()
        pool = self.pools.setdefault(loop, httpx.AsyncHTTPTransport())
        return await pool.handle_async_request(request)


def build(options: argparse.Namespace) -> DBOSAgent[str]:
    work = Path(options.dir)
    hold = set(filter(None, options.hold.split(",")))

    @tool
    def work_on(ctx: RunContext[dict[str, str]], key: str) -> dict[str, str]:
        """Do a piece of work with a side effect.

        Args:
            key: Which piece.
        """
        with (work / f"{ctx.deps['run']}.{key}.count").open("a") as counter:
            counter.write("ran\n")
            counter.flush()
            os.fsync(counter.fileno())
        if key in hold:
            (work / f"{key}.holding").write_text("holding")
            threading.Event().wait()
        return {"done": key}

    client = MistralClient(endpoint=options.url, transport=MarkingTransport(work, options.pause_before_chat))
    DBOS(config={"name": "durable-crash-test", "system_database_url": options.db})
    agent = Agent("mistral-small-latest", [work_on], client=client, max_steps=4)
    return DBOSAgent(agent, name="crashbot", sessions=options.sessions)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--workflow", required=True)
    parser.add_argument("--prompt", required=True)
    parser.add_argument("--pause-before-chat", type=int, default=None)
    parser.add_argument("--hold", default="")
    parser.add_argument("--reference", action="store_true")
    parser.add_argument("--sessions", default=None, help="a session store: each run keeps its conversation there")
    options = parser.parse_args()
    work = Path(options.dir)
    bot = build(options)
    DBOS.launch()  # recovers the runs a killed process left unfinished
    (work / "launched").write_text("launched")
    try:
        for workflow_id in [options.workflow] + ([options.workflow + "-ref"] if options.reference else []):
            print(time.monotonic(), "start", workflow_id, flush=True)
            session = workflow_id if options.sessions else None
            result = bot.run(options.prompt, workflow_id=workflow_id, deps={"run": workflow_id}, session=session)
            print(time.monotonic(), "done", workflow_id, flush=True)
            (work / f"{workflow_id}.json").write_text(result.to_json())
    finally:
        print(time.monotonic(), "destroy", flush=True)
        DBOS.destroy()
        print(time.monotonic(), "destroyed", flush=True)


if __name__ == "__main__":
    main()
