"""``examples/durable_worker.py``: 200 runs on a DBOS queue, 4 worker processes on PostgreSQL, one SIGKILLed mid-way.

Every run completes exactly once: each refund is in the ledger once, and the model saw each ticket's two requests
once (the server's log). The killed worker, restarted with its executor id, puts the runs it had in flight back on
the queue (DBOS recovery), and whichever worker is free finishes them from their last completed step.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from mistral_agents.testing import OfflineModel

from .worker_harness import load_example

HARNESS = Path(__file__).with_name("worker_harness.py")
RUNS, WAIT = 200, 120.0


def start(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "MISTRAL_API_KEY"}
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, *args], stdout=out, stderr=out, env=env)


def wait_for(marker: Path, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + WAIT
    while not marker.exists():
        assert process.poll() is None, f"{log.name} exited early:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"{marker.name} never appeared:\n{log.read_text()}"
        time.sleep(0.02)


def test_200_runs_on_4_workers_one_killed_mid_way_complete_exactly_once(tmp_path: Path, postgres_database: str) -> None:
    example = load_example()
    model = OfflineModel(policy=example.policy)
    ledger = tmp_path / "ledger"
    with model.server() as server:
        common = ["--db", postgres_database, "--model-url", server.url]

        def worker(executor_id: str, *extra: str) -> subprocess.Popen[bytes]:
            args = [
                str(HARNESS),
                *common,
                "--executor-id",
                executor_id,
                "--ledger",
                str(ledger),
                "--dir",
                str(tmp_path),
            ]
            return start([*args, *extra], tmp_path / f"{executor_id}.log")

        workers = {
            name: worker(name, *(["--pause-after", "20"] if name == "w2" else [])) for name in ("w1", "w2", "w3", "w4")
        }
        for name, process in workers.items():
            wait_for(tmp_path / f"{name}.ready", process, tmp_path / f"{name}.log")
        assert len(example.enqueue(postgres_database, range(1, RUNS + 1), server.url)) == RUNS

        wait_for(tmp_path / "w2.quiet", workers["w2"], tmp_path / "w2.log")  # w2 holds runs mid-way, none mid-refund
        workers["w2"].send_signal(signal.SIGKILL)
        workers["w2"].wait(WAIT)
        interrupted = json.loads((tmp_path / "w2.quiet").read_text())
        workers["w2"] = worker("w2")  # restarted with its executor id: DBOS.launch() recovers its runs

        try:
            outputs = example.wait(postgres_database, range(1, RUNS + 1), server.url, timeout=WAIT)
        finally:
            for process in workers.values():
                process.send_signal(signal.SIGTERM)
            for process in workers.values():
                process.wait(WAIT)
        requests = [r.json for r in model.requests if r.path.endswith("/chat/completions")]
        recovered = _executors(postgres_database, interrupted)

    assert outputs == [f'Done: {{"transaction_id":"T{n}","status":"refunded"}}' for n in range(1, RUNS + 1)]
    assert interrupted, "w2 had runs in flight when it was killed"
    assert {status for _, status in recovered} == {"SUCCESS"}  # requeued by the restarted w2, finished by someone
    entries = Counter(Path(ledger / "ledger.txt").read_text().split())
    assert entries == Counter(f"T{n}" for n in range(1, RUNS + 1))  # every refund exactly once
    asked = Counter(
        (next(m["content"] for m in body["messages"] if m["role"] == "user"), body["messages"][-1]["role"])
        for body in requests
    )
    tickets = [example.ticket(n)[1] for n in range(1, RUNS + 1)]
    assert asked == Counter({**{(t, "user"): 1 for t in tickets}, **{(t, "tool"): 1 for t in tickets}})
    assert model.rejections == []


def _executors(db: str, workflow_ids: list[str]) -> set[tuple[str | None, str]]:
    from dbos import DBOSClient

    client = DBOSClient(system_database_url=db)
    try:
        return {(w.executor_id, w.status) for w in client.list_workflows(workflow_ids=workflow_ids)}
    finally:
        client.destroy()
