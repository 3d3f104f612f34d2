"""A policy server in its own process: ``python -m tests.reliability.load_server`` prints its URL, then serves
until its stdin closes. The load tests and ``benchmarks/soak.py`` use it so the server's threads do not compete
with the client for the test process's GIL (on 2 cores, an in-process threaded server is the bottleneck).

The model: a user message ``... record N ...`` gets a call to the tool named in the system prompt (default
``fetch_record``) with ``{"record_id": N}``; a tool result gets ``Record data: <result>``; anything else gets
``echo <last message>``.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mistral_agents.testing import OfflineModel, OfflineServer, Reply

ASK = re.compile(r"record (\d+)")
ROOT = Path(__file__).resolve().parents[2]


def policy(body: dict[str, Any]) -> Reply | str:
    messages = body["messages"]
    last = messages[-1]
    if last["role"] == "tool":
        return f"Record data: {last['content']}"
    match = ASK.search(str(last.get("content")))
    if last["role"] == "user" and match and body.get("tools"):
        name = body["tools"][0]["function"]["name"]
        return Reply.tool_call(name, {"record_id": int(match.group(1))})
    return f"echo {last.get('content')}"


def main() -> None:
    server = OfflineServer(OfflineModel(policy=policy)).start()
    print(server.url, flush=True)
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    server.close()


@contextlib.contextmanager
def served_in_a_subprocess() -> Iterator[str]:
    """The URL of a policy server running in a child process, stopped on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.load_server"],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stdin is not None and process.stdout is not None
    try:
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(process.stdout.readline()), daemon=True)  # type: ignore[union-attr]
        reader.start()
        reader.join(20)
        if not line or not line[0].startswith("http://"):
            raise RuntimeError(f"the load server did not start: {line!r}")
        yield line[0].strip()
    finally:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        process.stdout.close()


if __name__ == "__main__":
    main()
