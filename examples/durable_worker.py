"""Durable agent runs shared by many worker processes through a DBOS queue (PostgreSQL), or on one machine (SQLite).

    python examples/durable_worker.py                      # a one-machine demo: SQLite, 5 runs, offline model

    # many machines: one PostgreSQL, any number of workers, each with its own stable executor id
    python examples/durable_worker.py worker  --db postgresql://... --executor-id worker-1 --ledger ./ledger
    python examples/durable_worker.py enqueue --db postgresql://... --count 200
    python examples/durable_worker.py wait    --db postgresql://... --count 200

Each run is a refund ticket: the model calls ``refund`` (a side effect, written to a ledger), then answers. A worker
killed mid-run loses nothing: restarted with the same ``--executor-id``, ``DBOS.launch()`` finishes its runs from
their last completed step, and runs still waiting on the queue go to whichever worker is free. The ledger is the
worker's own live object (the agent's ``deps``), so it never travels in a run's inputs. Offline model unless
``MISTRAL_API_KEY`` is set (or ``--model-url`` points at a server).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from dbos import DBOS, DBOSClient

from mistral_agents import Agent, MistralClient, RunContext, tool
from mistral_agents.durable import DBOSAgent
from mistral_agents.testing import OfflineModel, Reply

QUEUE = "refunds"


class Ledger:
    """Where refunds are written: one line per refund, appended atomically (several processes share the file)."""

    def __init__(self, directory: str | Path) -> None:
        self.path = Path(directory) / "ledger.txt"
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def record(self, transaction_id: str) -> None:
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{transaction_id}\n".encode())
        finally:
            os.close(fd)

    def entries(self) -> list[str]:
        return self.path.read_text().split() if self.path.exists() else []


@tool
def refund(ctx: RunContext[Ledger], transaction_id: str) -> dict[str, str]:
    """Refund a transaction (not idempotent: each call moves money).

    Args:
        transaction_id: The transaction to refund, e.g. T1001.
    """
    ctx.deps.record(transaction_id)
    return {"transaction_id": transaction_id, "status": "refunded"}


def policy(body: dict[str, Any]) -> Reply | str:
    """The offline model for this example: refund the transaction named in the ticket, then confirm."""
    messages = body["messages"]
    if messages[-1]["role"] == "user":
        found = re.search(r"T\d+", str(messages[-1]["content"]))
        return Reply.tool_call("refund", {"transaction_id": found.group() if found else "unknown"})
    return f"Done: {messages[-1]['content']}"


def make_bot(ledger: Ledger | None, model_url: str | None, transport: Any = None) -> DBOSAgent[str]:
    """The durable agent; every process (workers, and the one that enqueues) builds the same one."""
    if model_url:
        client = MistralClient(endpoint=model_url, transport=transport)
    elif os.environ.get("MISTRAL_API_KEY"):
        client = MistralClient()
    else:
        client = MistralClient(endpoint="http://offline", transport=OfflineModel(policy=policy).transport())
    agent = Agent("mistral-small-latest", [refund], client=client, deps=ledger, system_prompt="You process refunds.")
    return DBOSAgent(agent, name="refunds")


def dbos_config(db: str, executor_id: str | None = None) -> Any:
    config: dict[str, Any] = {"name": "durable-refunds", "system_database_url": db}
    if executor_id:
        config["executor_id"] = executor_id  # a restarted worker recovers the runs it had in flight
    return config


def start_worker(
    db: str, executor_id: str | None, ledger: Ledger, model_url: str | None, concurrency: int, transport: Any = None
) -> DBOSAgent[str]:
    """Configure DBOS, build the agent, launch (recovering this executor's unfinished runs), serve the queue."""
    DBOS(config=dbos_config(db, executor_id))
    bot = make_bot(ledger, model_url, transport)
    DBOS.launch()
    DBOS.register_queue(QUEUE, worker_concurrency=concurrency, polling_interval_sec=0.1)
    return bot


def worker(options: argparse.Namespace) -> None:
    start_worker(options.db, options.executor_id, Ledger(options.ledger), options.model_url, options.concurrency)
    print(f"worker {options.executor_id} serving queue {QUEUE!r}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    DBOS.destroy()


def ticket(number: int) -> tuple[str, str]:
    """The workflow id and prompt of ticket ``number`` (the id makes enqueueing twice harmless)."""
    return f"refund-{number}", f"Please refund transaction T{number}."


def enqueue(db: str, numbers: range, model_url: str | None = None) -> list[str]:
    """Put tickets on the queue from a process that runs none of them (a ``DBOSClient``); their workflow ids."""
    client = DBOSClient(system_database_url=db)
    try:
        client.register_queue(QUEUE, polling_interval_sec=0.1, on_conflict="never_update")
        bot = make_bot(None, model_url)
        return [
            bot.enqueue(QUEUE, prompt, workflow_id=wid, client=client).workflow_id
            for wid, prompt in map(ticket, numbers)
        ]
    finally:
        client.destroy()


def wait(db: str, numbers: range, model_url: str | None = None, timeout: float = 600.0) -> list[str]:
    """Wait until every ticket's run has ended; their answers (a failed run raises its error)."""
    client = DBOSClient(system_database_url=db)
    try:
        ids = [ticket(n)[0] for n in numbers]
        deadline = time.monotonic() + timeout
        while len(
            client.list_workflows(workflow_ids=ids, status=["SUCCESS", "ERROR"], load_input=False, load_output=False)
        ) < len(ids):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the runs did not all end within {timeout:g} seconds")
            time.sleep(0.2)
        bot = make_bot(None, model_url)
        return [bot.retrieve(wid, client=client).get_result().output for wid in ids]
    finally:
        client.destroy()


def demo() -> None:
    """One machine: SQLite, this process is the only worker, five tickets."""
    with tempfile.TemporaryDirectory() as tmp:
        ledger = Ledger(tmp)
        bot = start_worker(f"sqlite:///{tmp}/dbos.sqlite", None, ledger, None, concurrency=5)
        try:
            handles = [bot.enqueue(QUEUE, prompt, workflow_id=wid) for wid, prompt in map(ticket, range(1001, 1006))]
            for handle in handles:
                print(f"{handle.workflow_id}: {handle.get_result().output}")
            print(f"ledger: {' '.join(ledger.entries())}")
        finally:
            DBOS.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command")
    for name in ("worker", "enqueue", "wait"):
        command = commands.add_parser(name)
        command.add_argument("--db", required=True, help="DBOS system database URL (postgresql://... or sqlite:///...)")
        command.add_argument("--model-url", default=None, help="a Mistral-compatible server (default: offline)")
        if name == "worker":
            command.add_argument("--executor-id", required=True, help="stable per worker: a restart recovers its runs")
            command.add_argument("--ledger", default="ledger", help="directory of the refund ledger")
            command.add_argument("--concurrency", type=int, default=8, help="runs at once in this worker")
        else:
            command.add_argument("--count", type=int, default=10)
            command.add_argument("--start", type=int, default=1)
    options = parser.parse_args()
    if options.command == "worker":
        worker(options)
    elif options.command == "enqueue":
        numbers = range(options.start, options.start + options.count)
        print(f"enqueued {len(enqueue(options.db, numbers, options.model_url))} runs", flush=True)
    elif options.command == "wait":
        outputs = wait(options.db, range(options.start, options.start + options.count), options.model_url)
        print(f"{len(outputs)} runs done; first: {outputs[0]}", flush=True)
    else:
        demo()


if __name__ == "__main__":
    main()
