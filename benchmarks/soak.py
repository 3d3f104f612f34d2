"""Soak test, run by hand (not part of the test suite).

    python benchmarks/soak.py [--requests 100000] [--samples 20] [--mode sync|async] [--concurrency 8]

Sends N chat requests through ONE client to the offline model on a loopback HTTP server in a child process (so
the server's memory and threads are not counted), sampling this process's RSS (``VmRSS`` in /proc/self/status)
and open file descriptors (``/proc/self/fd``) along the way. Prints a table and a verdict: flat, or growing.
Every 10th request is streamed, every 50th is a 503 that gets retried, so the error and retry paths soak too.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mistral_agents import MistralAsyncClient, MistralClient, RetryPolicy  # noqa: E402

SERVER = r"""
import sys
from mistral_agents.testing import OfflineModel, OfflineServer, Reply
count = 0
def policy(body):
    global count
    count += 1
    if body["messages"][-1]["content"].startswith("fail"):
        return Reply.error(503, {"message": "overloaded", "type": "server_error"})
    return "ok " + body["messages"][-1]["content"]
server = OfflineServer(OfflineModel(policy=policy)).start()
print(server.url, flush=True)
sys.stdin.read()
server.close()
"""


def rss_kib() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def start_server() -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    if not url.startswith("http://"):
        raise SystemExit(f"the offline server did not start: {url!r}")
    return process, url


def messages(n: int) -> list[dict[str, str]]:
    text = f"fail {n}" if n % 50 == 25 else f"request {n}"
    return [{"role": "user", "content": text}]


NO_WAIT = RetryPolicy(initial_wait=0.0, max_wait=0.0, sleep=lambda s: None)


def run_sync(url: str, total: int, every: int, concurrency: int, samples: list[tuple[int, int, int, float]]) -> None:
    with MistralClient(endpoint=url, max_retries=1, retry=NO_WAIT, timeout=30) as client:
        done = 0
        lock = threading.Lock()
        started = time.perf_counter()

        def one(n: int) -> None:
            if n % 10 == 0:
                text = "".join(c.choices[0].delta.content or "" for c in client.chat_stream("m", messages(n)))
            else:
                try:
                    text = client.chat("m", messages(n)).choices[0].message.content  # type: ignore[assignment]
                except Exception:
                    text = "failed as planned" if n % 50 == 25 else "unexpected"
            assert text, n
            assert text != "unexpected", (n, text)

        def worker(first: int) -> None:
            nonlocal done
            for n in range(first, total, concurrency):
                one(n)
                with lock:
                    done += 1
                    if done % every == 0:
                        gc.collect()
                        samples.append((done, rss_kib(), open_fds(), time.perf_counter() - started))

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(concurrency)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


async def run_async(url: str, total: int, every: int, concurrency: int, samples: list[Any]) -> None:
    async def nowait(seconds: float) -> None:
        return None

    policy = RetryPolicy(initial_wait=0.0, max_wait=0.0, sleep=lambda s: None, async_sleep=nowait)
    async with MistralAsyncClient(endpoint=url, max_retries=1, retry=policy, timeout=30) as client:
        done = 0
        started = time.perf_counter()

        async def one(n: int) -> None:
            if n % 10 == 0:
                text = "".join([c.choices[0].delta.content or "" async for c in client.chat_stream("m", messages(n))])
            else:
                try:
                    text = (await client.chat("m", messages(n))).choices[0].message.content  # type: ignore[assignment]
                except Exception:
                    text = "failed as planned" if n % 50 == 25 else "unexpected"
            assert text, n
            assert text != "unexpected", (n, text)

        async def worker(first: int) -> None:
            nonlocal done
            for n in range(first, total, concurrency):
                await one(n)
                done += 1
                if done % every == 0:
                    gc.collect()
                    samples.append((done, rss_kib(), open_fds(), time.perf_counter() - started))

        await asyncio.gather(*(worker(i) for i in range(concurrency)))


def verdict(samples: list[tuple[int, int, int, float]]) -> tuple[str, str]:
    """Compare the second half with the first sample after warm-up (the first 10% is allocator warm-up)."""
    warm = samples[max(1, len(samples) // 10) :] or samples
    rss = [s[1] for s in warm]
    fds = [s[2] for s in warm]
    rss_growth = (rss[-1] - rss[0]) / max(rss[0], 1)
    half = len(rss) // 2
    trend = (sum(rss[half:]) / max(len(rss[half:]), 1)) - (sum(rss[:half]) / max(half, 1)) if half else 0
    memory = "flat" if rss_growth < 0.05 and trend < 2048 else "GROWING"
    # Pooled connections open and close as load shifts: flat means no upward trend, not a constant count.
    descriptors = "flat" if max(fds[half:] or fds) <= max(fds[:half] or fds) + 1 else "GROWING"
    return (f"memory {memory} (RSS {rss[0] / 1024:.1f} -> {rss[-1] / 1024:.1f} MiB after warm-up, "
            f"{rss_growth * 100:+.1f}%)"), f"file descriptors {descriptors} ({min(fds)}..{max(fds)})"  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--mode", choices=["sync", "async"], default="sync")
    parser.add_argument("--concurrency", type=int, default=8)
    options = parser.parse_args()
    every = max(1, options.requests // options.samples)
    process, url = start_server()
    samples: list[tuple[int, int, int, float]] = [(0, rss_kib(), open_fds(), 0.0)]
    try:
        if options.mode == "sync":
            run_sync(url, options.requests, every, options.concurrency, samples)
        else:
            asyncio.run(run_async(url, options.requests, every, options.concurrency, samples))
    finally:
        assert process.stdin is not None
        process.stdin.close()
        process.wait(10)
    print(f"soak: {options.requests} requests, {options.mode} client, concurrency {options.concurrency}, httpx "
          f"{httpx.__version__}, Python {sys.version.split()[0]}")  # fmt: skip
    print(f"{'requests':>10} {'RSS MiB':>9} {'fds':>5} {'seconds':>8} {'req/s':>7}")
    for done, rss, fds, seconds in samples:
        rate = done / seconds if seconds else 0
        print(f"{done:>10} {rss / 1024:>9.1f} {fds:>5} {seconds:>8.1f} {rate:>7.0f}")
    for line in verdict(samples):
        print("verdict:", line)


if __name__ == "__main__":
    main()
