"""httpx vs httpx2, raw and under our client, at N = 1, 10, 100, 1,000 (issue 22).

    python benchmarks/httpx2_sweep.py [--rounds 5] [--ns 1,10,100,1000] [--servers fast,uvicorn]
    python benchmarks/httpx2_sweep.py --profile 100   # cProfile of raw httpx2 (httpcore2's pool) at N = 100

Columns: raw ``httpx.AsyncClient``, raw ``httpx2.AsyncClient`` (each with 100 connections all kept alive, as our
pools), ``MistralAsyncClient()`` (httpx backend: our `_pool` on httpcore connections) and
``MistralAsyncClient(http_backend="httpx2")`` (httpx2's own pool). Two modes per N: ``concurrent`` (N chats in
one ``asyncio.gather``) and ``sequential`` (N chats in a row, awaited one by one). Columns run interleaved,
round by round, and every ratio is a paired median over rounds ÷ raw httpx2 (the faster raw client). Both the
raw-socket ``fast_server.py`` and the uvicorn app (``asgi_server.py``). Prints a markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from importlib import metadata
from typing import Any

from run import (
    API_KEY,
    AUTH,
    MESSAGES,
    MODEL,
    TIMES,
    Report,
    _chat_body,
    fast_server,
    interleaved_samples,
    paired_ratios,
)  # fmt: skip

RAW_HTTPX, RAW_HTTPX2, OURS, OURS_HTTPX2 = "raw httpx", "raw httpx2", "ours (httpx)", "ours (httpx2)"
BASE = RAW_HTTPX2
Op = Callable[[], Awaitable[Any]]


Closers = list[Callable[[], Awaitable[Any]]]
Row = tuple[str, str, int, dict[str, float], dict[str, float]]


def columns(loop: asyncio.AbstractEventLoop, endpoint: str, closers: Closers) -> dict[str, Op]:
    import httpx
    import httpx2

    from mistral_agents import MistralAsyncClient

    url = endpoint + "/v1/chat/completions"
    payload = json.dumps(_chat_body()).encode()
    headers = {**AUTH, "Content-Type": "application/json"}
    ops: dict[str, Op] = {}

    def raw(module: Any) -> Op:
        limits = module.Limits(max_connections=100, max_keepalive_connections=100)
        client = module.AsyncClient(timeout=120, limits=limits)
        closers.append(client.aclose)

        async def op() -> Any:
            response = await client.post(url, content=payload, headers=headers)
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"]

        return op

    def ours(backend: str) -> Op:
        client = MistralAsyncClient(endpoint=endpoint, api_key=API_KEY, http_backend=backend)  # type: ignore[arg-type]
        closers.append(client.close)

        async def op() -> Any:
            return (await client.chat(MODEL, MESSAGES)).choices[0].message.content

        return op

    ops[RAW_HTTPX] = raw(httpx)
    ops[RAW_HTTPX2] = raw(httpx2)
    ops[OURS] = ours("httpx")
    ops[OURS_HTTPX2] = ours("httpx2")
    return ops


def block(loop: asyncio.AbstractEventLoop, op: Op, n: int, mode: str) -> Callable[[], float]:
    """Milliseconds per batch of ``n`` chats; small N repeat the batch so a sample is ~100 requests."""
    batches = max(1, 100 // n)

    async def timed() -> float:
        started = time.perf_counter()
        for _ in range(batches):
            if mode == "concurrent":
                await asyncio.gather(*(op() for _ in range(n)))
            else:
                for _ in range(n):
                    await op()
        return (time.perf_counter() - started) / batches * 1e3

    return lambda: loop.run_until_complete(timed())


def sweep(server: str, ns: list[int], modes: list[str], rounds: int) -> list[Row]:
    script = "fast_server.py" if server == "fast" else "asgi_server.py"
    rows: list[Row] = []
    report = Report(quick=True)
    with fast_server(script) as endpoint:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
        closers: Closers = []
        ops = columns(loop, endpoint, closers)
        for mode in modes:
            for n in ns:
                cols = {name: block(loop, op, n, mode) for name, op in ops.items()}
                for column in cols.values():  # warm-up: connections opened
                    column()
                samples = interleaved_samples(cols, rounds, report)
                medians = {k: statistics.median(v) for k, v in samples.items() if v}
                ratios = paired_ratios(samples, BASE)
                rows.append((server, mode, n, medians, ratios))
                shown = ", ".join(f"{k} {v:.1f} ms ({ratios.get(k, 0):.2f}{TIMES})" for k, v in medians.items())
                print(f"[{server} {mode} N={n}: {shown}]", file=sys.stderr, flush=True)
        for close in closers:
            loop.run_until_complete(close())
        loop.close()
    if report.skipped:
        print(f"[skipped: {report.skipped}]", file=sys.stderr)
    return rows


def profile(n: int, batches: int) -> None:
    """cProfile of raw httpx2 at ``n`` concurrent chats: where httpcore2's pool spends its time."""
    with fast_server() as endpoint:
        loop = asyncio.new_event_loop()
        closers: Closers = []
        op = columns(loop, endpoint, closers)[RAW_HTTPX2]
        run = block(loop, op, n, "concurrent")
        run()
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(batches):
            run()
        profiler.disable()
        for close in closers:
            loop.run_until_complete(close())
        loop.close()
    stats = pstats.Stats(profiler)
    stats.sort_stats("tottime").print_stats(12)
    stats.sort_stats("cumulative").print_callees("_assign_requests_to_connections")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--ns", default="1,10,100,1000")
    parser.add_argument("--modes", default="sequential,concurrent")
    parser.add_argument("--servers", default="fast,uvicorn")
    parser.add_argument("--profile", type=int, default=0, help="profile raw httpx2 at this N instead")
    args = parser.parse_args()
    if args.profile:
        profile(args.profile, max(2, 2000 // args.profile))
        return
    ns = [int(n) for n in args.ns.split(",")]
    rows: list[Row] = []
    for server in args.servers.split(","):
        rows += sweep(server, ns, args.modes.split(","), args.rounds)
    versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("httpx", "httpcore", "httpx2", "httpcore2"))
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; {versions}\n")
    names = [RAW_HTTPX, RAW_HTTPX2, OURS, OURS_HTTPX2]
    print("| server | mode | N | " + " | ".join(names) + " |")
    print("|---|---|---:|" + "---:|" * len(names))
    for server, mode, n, medians, ratios in rows:
        cells = [f"{medians[k]:.1f} ms ({ratios[k]:.2f}{TIMES})" if k in medians else "—" for k in names]
        print(f"| {server} | {mode} | {n:,} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
