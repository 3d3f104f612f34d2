"""The mistral-agents benchmark suite: our client and agent against raw httpx (the floor) and the peers.

    python benchmarks/run.py [--quick] [--check] [--output docs/benchmarks.md]

It starts ``benchmarks/fast_server.py`` (a canned Mistral-compatible server) in its own process, then measures
side by side, interleaving the columns round by round so that load on the machine hits them alike:

- import time (a fresh interpreter each, best of N);
- sequential chat, a ~20-chunk stream, 500 concurrent async chats, a user → tool → answer loop;
- in-process costs without a network, and 1,000 concurrent ``arun`` conversations.

Peers (``pip install -e ".[bench]"``) that are missing or fail to set up are skipped with a note.
``--check`` exits 1 when one of our ratios misses its target. Not part of the unit tests: timing there is noise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

MODEL = "mistral-small-latest"
PROMPT = "What is the weather in Paris?"
API_KEY = "x"
WEATHER_SPEC = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "The city, e.g. Paris."}},
            "required": ["city"],
        },
    },
}

TIMES = "\N{MULTIPLICATION SIGN}"
FLOOR = "raw httpx"
OURS = "mistral-agents"


def get_weather(city: str) -> str:
    """The current weather in a city.

    Args:
        city: The city, e.g. Paris.
    """
    return f"sunny, 21 degrees in {city}"


# --------------------------------------------------------------------------------------------------- results
@dataclass
class Row:
    """One measured line: a value per column (None: skipped), the unit, and an optional target for ours."""

    title: str
    unit: str
    values: dict[str, float | None] = field(default_factory=dict)
    ratios: dict[str, float] = field(default_factory=dict)
    target: float | None = None  # max ratio ours / floor
    notes: list[str] = field(default_factory=list)


@dataclass
class Report:
    quick: bool
    rows: list[Row] = field(default_factory=list)
    inprocess: list[tuple[str, float, str]] = field(default_factory=list)
    concurrency: list[tuple[str, str]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    checks: list[tuple[str, str, bool]] = field(default_factory=list)
    sweep: list[SweepRow] = field(default_factory=list)
    charts: list[str] = field(default_factory=list)
    load: list[str] = field(default_factory=list)


def _fmt_time(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "s":
        return f"{value:.2f} s" if value >= 1 else f"{value * 1e3:.0f} ms"
    if unit == "ms":
        return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"
    return f"{value:,.0f} µs" if value >= 10 else f"{value:.1f} µs"


# --------------------------------------------------------------------------------------------------- timing
def interleaved(
    columns: dict[str, Callable[[], float]], rounds: int, report: Report
) -> tuple[dict[str, float | None], dict[str, float]]:
    """Run each column's block once per round, in turn; the median per column, and the median paired ratio
    to the floor (each round's value over the floor's in the same round)."""
    samples = interleaved_samples(columns, rounds, report)
    medians: dict[str, float | None] = {n: (statistics.median(s) if s else None) for n, s in samples.items()}
    return medians, paired_ratios(samples, FLOOR)


def paired_ratios(samples: dict[str, list[float]], base: str) -> dict[str, float]:
    """Per column, the median over rounds of its value over ``base``'s value in the same round."""
    ratios: dict[str, float] = {}
    floor = samples.get(base) or []
    for name, values in samples.items():
        if values and floor and len(values) == len(floor):
            ratios[name] = statistics.median(v / f for v, f in zip(values, floor, strict=True))
    return ratios


def interleaved_samples(columns: dict[str, Callable[[], float]], rounds: int, report: Report) -> dict[str, list[float]]:
    """Each column's block once per round, in a rotating order; every round's value per column."""
    samples: dict[str, list[float]] = {name: [] for name in columns}
    live = dict(columns)
    for index in range(rounds):
        # Rotate (and on odd rounds reverse) the order, so no column always runs first or after the same one.
        names = list(live)
        shift = index % len(names) if names else 0
        names = names[shift:] + names[:shift]
        if index % 2:
            names.reverse()
        for name in names:
            block = live.get(name)
            if block is None:
                continue
            gc.collect()
            try:
                samples[name].append(block())
            except Exception as error:  # a peer that breaks mid-run is reported, not fatal
                report.skipped.setdefault(name, f"failed during the run: {type(error).__name__}: {error}"[:160])
                live.pop(name)
                samples[name] = []
    return samples


def timed_block(
    op: Callable[[], Any], count: int, clock: Callable[[], float] = time.perf_counter
) -> Callable[[], float]:
    def block() -> float:
        started = clock()
        for _ in range(count):
            op()
        return (clock() - started) / count * 1e6

    return block


def timed_async_block(
    loop: asyncio.AbstractEventLoop, op: Callable[[], Awaitable[Any]], count: int
) -> Callable[[], float]:
    async def many() -> float:
        started = time.perf_counter()
        for _ in range(count):
            await op()
        return (time.perf_counter() - started) / count * 1e6

    return lambda: loop.run_until_complete(many())


def concurrent_block(
    loop: asyncio.AbstractEventLoop, op: Callable[[], Awaitable[Any]], count: int
) -> Callable[[], float]:
    async def batch() -> float:
        started = time.perf_counter()
        await asyncio.gather(*(op() for _ in range(count)))
        return (time.perf_counter() - started) * 1e3

    return lambda: loop.run_until_complete(batch())


def setup_columns(
    factories: dict[str, Callable[[], Callable[[], float]]], report: Report
) -> dict[str, Callable[[], float]]:
    """Build each column (which also warms it up); a peer that is missing or fails is skipped with a note."""
    columns: dict[str, Callable[[], float]] = {}
    for name, factory in factories.items():
        try:
            columns[name] = factory()
        except ImportError as error:
            report.skipped.setdefault(name, f"not installed ({error.name or error})")
        except Exception as error:
            if name in (FLOOR, OURS):
                raise
            report.skipped.setdefault(name, f"{type(error).__name__}: {error}"[:160])
    return columns


# --------------------------------------------------------------------------------------------------- server
@contextlib.contextmanager
def fast_server(script: str = "fast_server.py") -> Iterator[str]:
    """A benchmark server (``fast_server.py``, or ``asgi_server.py`` under uvicorn) in its own process."""
    process = subprocess.Popen([sys.executable, str(HERE / script)], stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"the benchmark server did not start: {line!r}")
        yield f"http://127.0.0.1:{int(line.split()[1])}"
    finally:
        process.terminate()
        process.wait(10)


# --------------------------------------------------------------------------------------------------- imports
IMPORTS: dict[str, str] = {
    "httpx + pydantic": "import httpx; from pydantic import BaseModel",
    OURS: "from mistral_agents import MistralClient",
    "mistralai": "from mistralai.client import Mistral",
    "openai": "from openai import OpenAI",
    "pydantic-ai": "from pydantic_ai import Agent",
}
IMPORT_EXTRA = {
    "`from mistral_agents import Agent, tool`": "from mistral_agents import Agent, tool",
    "httpx + pydantic with one model defined": (
        "import httpx; from pydantic import BaseModel\nclass M(BaseModel):\n    x: int"
    ),
}
_IMPORT_PROBE = "import time\nt = time.perf_counter()\n{stmt}\nprint(time.perf_counter() - t)"


def _import_seconds(statement: str) -> float | None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE.format(stmt=statement)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        return None
    return float(done.stdout.strip().splitlines()[-1])


def bench_imports(report: Report, repeats: int) -> None:
    statements = {**IMPORTS, **IMPORT_EXTRA}
    if statements["mistralai"] and _import_seconds("import mistralai.client") is None:
        statements["mistralai"] = "from mistralai import Mistral"  # mistralai < 3
    samples: dict[str, list[float]] = {name: [] for name in statements}
    missing: set[str] = set()
    for index in range(repeats):
        names = [n for n in statements if n not in missing]
        if index % 2:
            names.reverse()
        for name in names:
            seconds = _import_seconds(statements[name])
            if seconds is None:
                missing.add(name)
                report.skipped.setdefault(name, "not installed")
            else:
                samples[name].append(seconds)
    floor_samples = samples["httpx + pydantic"]
    row = Row(f"import (best of {repeats})", "ms", target=1.25)
    row.notes.append(
        f"floor: `{IMPORTS['httpx + pydantic']}`; ours: `{IMPORTS[OURS]}`; ratio: the median over rounds of "
        "each round's time over the floor's"
    )

    def paired(values: list[float]) -> float:
        return statistics.median(v / f for v, f in zip(values, floor_samples, strict=True))

    for name in IMPORT_EXTRA:
        values = samples.pop(name)
        if name not in missing:
            row.notes.append(f"{name}: {min(values) * 1e3:.0f} ms ({paired(values):.2f}{TIMES} the floor)")
    for name, values in samples.items():
        column = FLOOR if name == "httpx + pydantic" else name
        if name in missing:
            row.values[column] = None
            continue
        row.values[column] = min(values) * 1e3
        row.ratios[column] = paired(values)
    report.rows.append(row)


# --------------------------------------------------------------------------------------------------- chat
def _chat_body(stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]}
    if stream:
        body["stream"] = True
    return body


MESSAGES = [{"role": "user", "content": PROMPT}]
AUTH = {"Authorization": f"Bearer {API_KEY}"}


def _warm(op: Callable[[], Any], times: int = 20) -> None:
    for _ in range(times):
        op()


def bench_chat(report: Report, endpoint: str, rounds: int, count: int) -> None:
    url = endpoint + "/v1/chat/completions"

    def floor() -> Callable[[], float]:
        import httpx

        client = httpx.Client(timeout=120)
        body = _chat_body()

        def op() -> Any:
            response = client.post(url, json=body, headers=AUTH)
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"]

        _warm(op)
        return timed_block(op, count)

    def ours() -> Callable[[], float]:
        from mistral_agents import MistralClient

        client = MistralClient(endpoint=endpoint, api_key=API_KEY)

        def op() -> Any:
            return client.chat(MODEL, MESSAGES).choices[0].message.content

        _warm(op)
        return timed_block(op, count)

    def mistralai() -> Callable[[], float]:
        Mistral = _mistralai_class()
        client = Mistral(api_key=API_KEY, server_url=endpoint)

        def op() -> Any:
            return client.chat.complete(model=MODEL, messages=MESSAGES).choices[0].message.content  # type: ignore[index]

        _warm(op)
        return timed_block(op, count)

    def openai() -> Callable[[], float]:
        from openai import OpenAI

        client = OpenAI(api_key=API_KEY, base_url=endpoint + "/v1")

        def op() -> Any:
            return client.chat.completions.create(model=MODEL, messages=MESSAGES).choices[0].message.content  # type: ignore[arg-type]

        _warm(op)
        return timed_block(op, count)

    columns = setup_columns({FLOOR: floor, OURS: ours, "mistralai": mistralai, "openai": openai}, report)
    medians, ratios = interleaved(columns, rounds, report)
    report.rows.append(Row(f"one chat request ({rounds}{TIMES}{count} sequential)", "µs", medians, ratios, target=1.15))


def bench_stream(report: Report, endpoint: str, rounds: int, count: int) -> None:
    url = endpoint + "/v1/chat/completions"

    def floor() -> Callable[[], float]:
        import httpx

        client = httpx.Client(timeout=120)
        body = _chat_body(stream=True)

        def op() -> Any:
            parts = []
            with client.stream("POST", url, json=body, headers={**AUTH, "Accept": "text/event-stream"}) as response:
                response.raise_for_status()
                for line in response.iter_lines():
                    if line.startswith("data: ") and line != "data: [DONE]":
                        delta = json.loads(line[6:])["choices"][0]["delta"]
                        parts.append(delta.get("content") or "")
            return "".join(parts)

        _warm(op)
        return timed_block(op, count)

    def ours() -> Callable[[], float]:
        from mistral_agents import MistralClient

        client = MistralClient(endpoint=endpoint, api_key=API_KEY)

        def op() -> Any:
            return "".join(chunk.choices[0].delta.content or "" for chunk in client.chat_stream(MODEL, MESSAGES))  # type: ignore[misc]

        _warm(op)
        return timed_block(op, count)

    def mistralai() -> Callable[[], float]:
        Mistral = _mistralai_class()
        client = Mistral(api_key=API_KEY, server_url=endpoint)

        def op() -> Any:
            return "".join(
                event.data.choices[0].delta.content or ""  # type: ignore[misc]
                for event in client.chat.stream(model=MODEL, messages=MESSAGES)
            )

        _warm(op)
        return timed_block(op, count)

    def openai() -> Callable[[], float]:
        from openai import OpenAI

        client = OpenAI(api_key=API_KEY, base_url=endpoint + "/v1")

        def op() -> Any:
            stream = client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)  # type: ignore[arg-type]
            return "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

        _warm(op)
        return timed_block(op, count)

    columns = setup_columns({FLOOR: floor, OURS: ours, "mistralai": mistralai, "openai": openai}, report)
    medians, ratios = interleaved(columns, rounds, report)
    report.rows.append(Row(f"one ~20-chunk stream ({rounds}{TIMES}{count})", "µs", medians, ratios, target=1.25))


def bench_async(report: Report, endpoint: str, rounds: int, concurrency: int) -> None:
    url = endpoint + "/v1/chat/completions"
    loop = asyncio.new_event_loop()

    def floor() -> Callable[[], float]:
        import httpx

        client = httpx.AsyncClient(timeout=120)
        body = _chat_body()

        async def op() -> Any:
            response = await client.post(url, json=body, headers=AUTH)
            response.raise_for_status()
            return response.json()["choices"][0]["message"]["content"]

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    def ours() -> Callable[[], float]:
        from mistral_agents import MistralAsyncClient

        client = MistralAsyncClient(endpoint=endpoint, api_key=API_KEY)

        async def op() -> Any:
            return (await client.chat(MODEL, MESSAGES)).choices[0].message.content

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    def mistralai() -> Callable[[], float]:
        Mistral = _mistralai_class()
        client = Mistral(api_key=API_KEY, server_url=endpoint)

        async def op() -> Any:
            return (await client.chat.complete_async(model=MODEL, messages=MESSAGES)).choices[0].message.content  # type: ignore[index]

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    def openai() -> Callable[[], float]:
        from openai import AsyncOpenAI

        client = AsyncOpenAI(api_key=API_KEY, base_url=endpoint + "/v1")

        async def op() -> Any:
            return (await client.chat.completions.create(model=MODEL, messages=MESSAGES)).choices[0].message.content  # type: ignore[arg-type]

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    columns = setup_columns({FLOOR: floor, OURS: ours, "mistralai": mistralai, "openai": openai}, report)
    medians, ratios = interleaved(columns, rounds, report)
    # The loop stays open: peers' clients may still close their connections on it when collected.
    row = Row(f"{concurrency} concurrent async chats, one client ({rounds} rounds)", "ms", medians, ratios, target=1.0)
    row.notes.append("each client's default connection pool (httpx: 100 connections; openai: 1,000)")
    report.rows.append(row)


# --------------------------------------------------------------------------------------------------- sweep
SWEEP_NS = (1, 10, 100, 1000)
FAST = "mistral-agents (aiohttp)"
RAW_AIOHTTP = "raw aiohttp"
HTTPX_AIOHTTP = "httpx + httpx-aiohttp"
SWEEP_COLUMNS = [FLOOR, OURS, FAST, HTTPX_AIOHTTP, RAW_AIOHTTP]


@dataclass
class SweepRow:
    server: str
    n: int
    batches: int
    values: dict[str, float | None]
    ratios: dict[str, float]  # paired, over the floor
    fast_over_aiohttp: float | None  # paired, ours (aiohttp) over raw aiohttp


def bench_sweep(report: Report, endpoint: str, server: str, rounds: int, ns: tuple[int, ...]) -> None:
    """N concurrent chats on one client, for each N: each column's clients made once, one warm-up batch per N,
    then ``rounds`` interleaved timed rounds; a round runs ``max(1, 100 // N)`` batches (N=1: 100 requests in a
    row) and counts the milliseconds per batch."""
    url = endpoint + "/v1/chat/completions"
    body = _chat_body()
    payload = json.dumps(body).encode()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    ops: dict[str, Callable[[], Awaitable[Any]]] = {}
    closers: list[Callable[[], Awaitable[Any]]] = []

    def raw_httpx(transport: Callable[[], Any] | None) -> Callable[[], Callable[[], Awaitable[Any]]]:
        def make() -> Callable[[], Awaitable[Any]]:
            import httpx

            # httpx's defaults but the timeout: the default 5 s pool timeout fails outright at N = 1,000.
            client = httpx.AsyncClient(transport=transport() if transport else None, timeout=120)
            closers.append(client.aclose)
            headers = {**AUTH, "Content-Type": "application/json"}

            async def op() -> Any:
                response = await client.post(url, content=payload, headers=headers)
                response.raise_for_status()
                return response.json()["choices"][0]["message"]["content"]

            return op

        return make

    def aiohttp_transport() -> Any:
        from httpx_aiohttp import AiohttpTransport

        return AiohttpTransport()

    def ours(backend: str) -> Callable[[], Callable[[], Awaitable[Any]]]:
        def make() -> Callable[[], Awaitable[Any]]:
            from mistral_agents import MistralAsyncClient

            client = MistralAsyncClient(endpoint=endpoint, api_key=API_KEY, http_backend=backend)  # type: ignore[arg-type]
            closers.append(client.close)

            async def op() -> Any:
                return (await client.chat(MODEL, MESSAGES)).choices[0].message.content

            return op

        return make

    def raw_aiohttp() -> Callable[[], Awaitable[Any]]:
        import aiohttp

        async def made() -> Any:
            return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))

        session = loop.run_until_complete(made())
        closers.append(session.close)
        headers = {**AUTH, "Content-Type": "application/json"}

        async def op() -> Any:
            async with session.post(url, data=payload, headers=headers) as response:
                response.raise_for_status()
                return json.loads(await response.read())["choices"][0]["message"]["content"]

        return op

    factories: dict[str, Callable[[], Callable[[], Awaitable[Any]]]] = {
        FLOOR: raw_httpx(None), OURS: ours("httpx"), FAST: ours("aiohttp"), HTTPX_AIOHTTP: raw_httpx(aiohttp_transport),
        RAW_AIOHTTP: raw_aiohttp,
    }  # fmt: skip
    for name, factory in factories.items():
        try:
            ops[name] = factory()
        except ImportError as error:
            report.skipped.setdefault(f"{name} (sweep)", f"not installed ({error.name or error})")
    for n in ns:
        batches = max(1, 100 // n)

        def block(op: Callable[[], Awaitable[Any]], n: int = n, batches: int = batches) -> Callable[[], float]:
            async def timed() -> float:
                started = time.perf_counter()
                for _ in range(batches):
                    await asyncio.gather(*(op() for _ in range(n)))
                return (time.perf_counter() - started) / batches * 1e3

            return lambda: loop.run_until_complete(timed())

        columns = {name: block(op) for name, op in ops.items()}
        for column in columns.values():  # warm-up: connections opened, caches filled
            column()
        samples = interleaved_samples(columns, rounds, report)
        medians = {name: (statistics.median(v) if v else None) for name, v in samples.items()}
        ratios = paired_ratios(samples, FLOOR)
        fast = paired_ratios(samples, RAW_AIOHTTP).get(FAST)
        report.sweep.append(SweepRow(server, n, batches, medians, ratios, fast))
        shown = ", ".join(f"{k} {v:.1f} ms" for k, v in medians.items() if v is not None)
        print(f"[sweep {server} N={n}: {shown}]", file=sys.stderr, flush=True)
    for close in closers:
        with contextlib.suppress(Exception):
            loop.run_until_complete(close())
    loop.close()
    asyncio.set_event_loop(None)


def evaluate_sweep(report: Report) -> None:
    for row in report.sweep:
        label = f"{row.server}, N = {row.n:,}"
        ratio = row.ratios.get(OURS)
        report.checks.append(
            (f"sweep {label}: ours ≤ 1.00{TIMES} raw httpx", _ratio_text(ratio), ratio is not None and ratio <= 1.0)
        )
        if row.n >= 100:
            fast = row.ratios.get(FAST)
            report.checks.append(
                (
                    f"sweep {label}: aiohttp backend ≥ 4{TIMES} raw httpx's throughput (≤ 0.25{TIMES} its time)",
                    _ratio_text(fast),
                    fast is not None and fast <= 0.25,
                )
            )
            report.checks.append(
                (
                    f"sweep {label}: aiohttp backend ≤ 1.5{TIMES} raw aiohttp",
                    _ratio_text(row.fast_over_aiohttp),
                    row.fast_over_aiohttp is not None and row.fast_over_aiohttp <= 1.5,
                )
            )


def _ratio_text(ratio: float | None) -> str:
    return "not measured" if ratio is None else f"{ratio:.2f}{TIMES}"


def sweep_charts(report: Report, folder: Path) -> list[str]:
    """One SVG per server: requests per second against N, a line per column (log-scaled N). Returns the files."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        report.skipped.setdefault("charts", "matplotlib not installed")
        return []
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for server in dict.fromkeys(row.server for row in report.sweep):
        rows = [row for row in report.sweep if row.server == server]
        figure, axes = plt.subplots(figsize=(7, 4))
        for column in SWEEP_COLUMNS:
            points = [(r.n, r.n / (r.values[column] / 1e3)) for r in rows if r.values.get(column)]
            if points:
                axes.plot(*zip(*points, strict=True), marker="o", label=column)
        axes.set_xscale("log")
        axes.set_xlabel("concurrent chats on one client (N)")
        axes.set_ylabel("requests per second (median)")
        axes.set_title(f"Concurrency sweep against {server}")
        axes.grid(True, alpha=0.3)
        axes.legend(fontsize=8)
        figure.tight_layout()
        name = f"sweep-{server.replace(' ', '-').replace('.', '-')}.svg"
        figure.savefig(folder / name, format="svg", metadata={"Date": None})
        plt.close(figure)
        written.append(name)
    return written


# --------------------------------------------------------------------------------------------------- tool loop
def _floor_turn(messages: list[dict[str, Any]], message: dict[str, Any]) -> str | None:
    """One turn of the hand-written floor loop: the final answer, or None once the tool results are appended."""
    messages.append(message)
    if not message.get("tool_calls"):
        return str(message["content"])
    for call in message["tool_calls"]:
        result = get_weather(**json.loads(call["function"]["arguments"]))
        messages.append(
            {"role": "tool", "tool_call_id": call["id"], "name": call["function"]["name"], "content": result}
        )
    return None


def bench_tool_loop(report: Report, endpoint: str, rounds: int, count: int) -> None:
    url = endpoint + "/v1/chat/completions"
    loop = asyncio.new_event_loop()

    def floor() -> Callable[[], float]:
        import httpx

        client = httpx.Client(timeout=120)

        def op() -> Any:
            messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
            while True:
                response = client.post(
                    url, json={"model": MODEL, "messages": messages, "tools": [WEATHER_SPEC]}, headers=AUTH
                )
                response.raise_for_status()
                answer = _floor_turn(messages, response.json()["choices"][0]["message"])
                if answer is not None:
                    return answer

        _warm(op)
        return timed_block(op, count)

    def ours() -> Callable[[], float]:
        from mistral_agents import Agent, MistralClient, tool

        agent = Agent(MODEL, [tool(get_weather)], client=MistralClient(endpoint=endpoint, api_key=API_KEY))

        def op() -> Any:
            result = agent.run(PROMPT)
            assert result.steps == 2, result.steps
            return result.output

        _warm(op)
        return timed_block(op, count)

    def pydantic_ai() -> Callable[[], float]:
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        model = OpenAIChatModel(MODEL, provider=OpenAIProvider(base_url=endpoint + "/v1", api_key=API_KEY))
        agent = Agent(model, tools=[get_weather])

        async def op() -> Any:
            return (await agent.run(PROMPT)).output

        for _ in range(10):
            loop.run_until_complete(op())
        return timed_async_block(loop, op, count)

    def openai_agents() -> Callable[[], float]:
        from agents import Agent, OpenAIChatCompletionsModel, Runner, function_tool, set_tracing_disabled
        from openai import AsyncOpenAI

        set_tracing_disabled(True)
        client = AsyncOpenAI(api_key=API_KEY, base_url=endpoint + "/v1")
        agent = Agent(
            name="weather",
            model=OpenAIChatCompletionsModel(model=MODEL, openai_client=client),
            tools=[function_tool(get_weather)],
        )

        async def op() -> Any:
            return (await Runner.run(agent, PROMPT)).final_output

        for _ in range(10):
            loop.run_until_complete(op())
        return timed_async_block(loop, op, count)

    columns = setup_columns(
        {FLOOR: floor, OURS: ours, "pydantic-ai": pydantic_ai, "openai-agents": openai_agents}, report
    )
    medians, ratios = interleaved(columns, rounds, report)
    # The loop stays open: peers' clients may still close their connections on it when collected.
    row = Row(f"user → tool → answer loop ({rounds}{TIMES}{count})", "µs", medians, ratios, target=1.25)
    row.notes.append(
        "floor: a hand-written httpx loop; ours: `Agent.run`; pydantic-ai (OpenAI chat model) and the OpenAI "
        "Agents SDK (chat-completions model) via their async API on a persistent loop, their best case"
    )
    report.rows.append(row)


def bench_concurrent_loops(report: Report, endpoint: str, rounds: int, concurrency: int) -> None:
    """``concurrency`` user → tool → answer conversations at once on one client: ours vs pydantic-ai."""
    url = endpoint + "/v1/chat/completions"
    loop = asyncio.new_event_loop()

    def floor() -> Callable[[], float]:
        import httpx

        client = httpx.AsyncClient(timeout=120)

        async def op() -> Any:
            messages: list[dict[str, Any]] = [{"role": "user", "content": PROMPT}]
            while True:
                body = {"model": MODEL, "messages": messages, "tools": [WEATHER_SPEC]}
                response = await client.post(url, json=body, headers=AUTH)
                response.raise_for_status()
                answer = _floor_turn(messages, response.json()["choices"][0]["message"])
                if answer is not None:
                    return answer

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    def ours() -> Callable[[], float]:
        from mistral_agents import Agent, MistralAsyncClient, tool

        agent = Agent(MODEL, [tool(get_weather)], client=MistralAsyncClient(endpoint=endpoint, api_key=API_KEY))

        async def op() -> Any:
            return (await agent.arun(PROMPT)).output

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    def pydantic_ai() -> Callable[[], float]:
        from pydantic_ai import Agent
        from pydantic_ai.models.openai import OpenAIChatModel
        from pydantic_ai.providers.openai import OpenAIProvider

        model = OpenAIChatModel(MODEL, provider=OpenAIProvider(base_url=endpoint + "/v1", api_key=API_KEY))
        agent = Agent(model, tools=[get_weather])

        async def op() -> Any:
            return (await agent.run(PROMPT)).output

        block = concurrent_block(loop, op, concurrency)
        block()
        return block

    columns = setup_columns({FLOOR: floor, OURS: ours, "pydantic-ai": pydantic_ai}, report)
    medians, ratios = interleaved(columns, rounds, report)
    row = Row(f"{concurrency} concurrent tool loops, one client ({rounds} rounds)", "ms", medians, ratios, target=1.0)
    row.notes.append("floor: a hand-written async httpx loop (httpx.AsyncClient(timeout=120)); ours: `Agent.arun`")
    report.rows.append(row)


# --------------------------------------------------------------------------------------------------- in-process
def _median_us(op: Callable[[], Any], count: int, rounds: int) -> float:
    op()
    return statistics.median(timed_block(op, count, time.process_time)() for _ in range(rounds))


def bench_inprocess(report: Report, rounds: int, count: int) -> None:
    import httpx

    from mistral_agents import Agent, MistralClient, tool
    from mistral_agents.tools import Tool

    def search(query: str, limit: int = 10, city: str | None = None) -> list[str]:
        """Search the catalogue.

        Args:
            query: What to look for.
            limit: At most this many results.
            city: Only results in this city.
        """
        return [query] * min(limit, 2)

    decoration = _median_us(lambda: tool(search), max(count // 10, 20), rounds)
    report.inprocess.append(("`@tool` decoration (3 parameters, docstring)", decoration, "paid once per tool"))

    searched = tool(search)
    arguments = '{"query": "shoes", "limit": 3}'
    validate = _median_us(lambda: searched.call(searched.validate(arguments)), count, rounds)
    report.inprocess.append(("`Tool.validate` + call", validate, ""))

    tool_call = _completion_bytes(tool_name="get_weather")
    answer = _completion_bytes(tool_name=None)

    def handler(request: httpx.Request) -> httpx.Response:
        body = request.content
        return httpx.Response(200, content=answer if b'"role":"tool"' in body else tool_call)

    transport = httpx.MockTransport(handler)
    client = MistralClient(endpoint="http://bench.local", api_key=API_KEY, transport=transport)
    agent: Agent[str] = Agent(MODEL, [tool(get_weather)], client=client)
    http = httpx.Client(transport=transport)
    body = json.dumps({"model": MODEL, "messages": MESSAGES}).encode()

    def bare() -> Any:
        return http.post("http://bench.local/v1/chat/completions", content=body, headers=AUTH).content

    # Paired: the agent run and the bare transport request interleaved round by round.
    runs: list[float] = []
    bares: list[float] = []
    agent.run(PROMPT)
    bare()
    for index in range(max(rounds, 9)):
        pair = [(runs, lambda: agent.run(PROMPT)), (bares, bare)]
        for into, op in pair if index % 2 else reversed(pair):
            gc.collect()
            # CPU time of this process: on a shared, loaded machine wall time counts other processes' turns.
            into.append(timed_block(op, count // 2, time.process_time)())
    run = statistics.median(runs)
    transport_cost = statistics.median(bares)
    step = statistics.median((r - 2 * b) / 2 for r, b in zip(runs, bares, strict=True))
    report.inprocess.append(("agent run: tool call + answer (2 steps), `httpx.MockTransport`", run, ""))
    report.inprocess.append(("one httpx request through the same `MockTransport` (the transport)", transport_cost, ""))
    report.inprocess.append(("**one agent step, excluding the transport**", step, "target < 100 µs"))
    report.checks.append(("one in-process agent step < 100 µs", f"{step:.0f} µs", step < 100))
    _ = Tool  # the class is part of what a user imports; keep the import honest


def _completion_bytes(tool_name: str | None) -> bytes:
    sys.path.insert(0, str(HERE))
    import fast_server

    if tool_name is None:
        return fast_server._completion({"role": "assistant", "content": fast_server.ANSWER}, "stop")
    return fast_server._completion(fast_server._tool_call_message(tool_name), "tool_calls")


# --------------------------------------------------------------------------------------------------- concurrency
def bench_concurrent_runs(report: Report, endpoint: str, conversations: int) -> None:
    from mistral_agents import Agent, MistralAsyncClient, tool

    async def many(track: bool, backend: str) -> tuple[float, float, int]:
        client = MistralAsyncClient(endpoint=endpoint, api_key=API_KEY, http_backend=backend)  # type: ignore[arg-type]
        agent: Agent[str] = Agent(MODEL, [tool(get_weather)], client=client)
        await asyncio.gather(*(agent.arun(PROMPT) for _ in range(200)))  # warm up, connections open
        gc.collect()
        if track:
            tracemalloc.start()
            tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0] if track else 0
        started, cpu = time.perf_counter(), time.process_time()
        results = await asyncio.gather(*(agent.arun(PROMPT) for _ in range(conversations)))
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        peak = tracemalloc.get_traced_memory()[1] - base if track else 0
        if track:
            tracemalloc.stop()
        assert all(r.steps == 2 for r in results)
        await client.close()
        return elapsed, cpu, peak

    report.concurrency.append((f"{conversations:,} concurrent `arun` conversations (2 model calls + 1 tool each)", ""))
    for backend, target in (("httpx", 2.0), ("aiohttp", 0.5)):
        try:
            timings = [asyncio.run(many(False, backend))[:2] for _ in range(5)]
        except ImportError:
            report.skipped.setdefault(f"{backend} backend", "not installed")
            continue
        wall = statistics.median(t[0] for t in timings)
        cpu = statistics.median(t[1] for t in timings)
        _, _, peak = asyncio.run(many(True, backend))
        per = wall / conversations * 1e3
        label = "default backend (httpx)" if backend == "httpx" else 'http_backend="aiohttp"'
        report.concurrency.append((f"{label}: wall time (median of 5)", f"{wall:.2f} s ({per:.2f} ms/conversation)"))
        report.concurrency.append(
            (
                f"{label}: client CPU time (median of 5; the server is another process)",
                f"{cpu:.2f} s ({cpu / conversations * 1e3:.2f} ms/conversation)",
            )
        )
        report.concurrency.append(
            (f"{label}: peak memory per conversation (tracemalloc)", f"{peak / conversations / 1024:.1f} KiB")
        )
        report.checks.append((f"1,000 conversations, {label}: ≤ {target} ms each", f"{per:.2f} ms", per <= target))


def load_average() -> str:
    """``uptime``'s load averages (1, 5, 15 min) on this machine."""
    with contextlib.suppress(OSError):
        one, five, fifteen = Path("/proc/loadavg").read_text().split()[:3]
        return f"{one} / {five} / {fifteen}"
    return "unknown"


# --------------------------------------------------------------------------------------------------- machine
def _mistralai_class() -> Any:
    try:
        from mistralai.client import Mistral
    except ImportError:
        from mistralai import Mistral  # type: ignore[attr-defined,no-redef]
    return Mistral


def machine() -> list[tuple[str, str]]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    packages = []
    for name in ("mistral-agents", "httpx", "pydantic", "mistralai", "openai", "pydantic-ai-slim", "openai-agents"):
        try:
            packages.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            packages.append(f"{name} (not installed)")
    return [
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("OS", platform.platform()),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", ", ".join(packages)),
    ]


# --------------------------------------------------------------------------------------------------- output
COLUMNS = [FLOOR, OURS, "mistralai", "openai", "pydantic-ai", "openai-agents"]


def render(report: Report, info: list[tuple[str, str]], command: str) -> str:
    out = ["# Benchmarks", ""]
    out.append(
        f"Produced by `{command}` (see `benchmarks/`). A canned Mistral-compatible server "
        "(`benchmarks/fast_server.py`, stdlib asyncio) runs in its own process so that the client side is what "
        "is measured. Each cell is the median over interleaved rounds; the ratio is the median, over rounds, of the "
        "column's time divided by the floor's in the same round (import: best of N, divided by the floor's best). "
        "Lower is better."
    )
    out.append("")
    out.append(
        "**Noise:** this machine has 2 cores and other work (test suites) may run at the same time, so absolute "
        "numbers move by tens of percent between runs, and by far more on a loaded machine (the load average "
        "before each section is listed under Machine: above 2, the benchmark shared the cores with other "
        "processes, and every wall time is inflated); ratios from interleaved rounds are steadier."
    )
    out += ["", "## Side by side", ""]
    present = [c for c in COLUMNS if any(c in row.values for row in report.rows)]
    extra = sorted({c for row in report.rows for c in row.values if c not in COLUMNS})
    present += extra
    out.append("| | " + " | ".join(present) + " | target (ours) |")
    out.append("|---" * (len(present) + 2) + "|")
    for row in report.rows:
        cells = []
        for column in present:
            value = row.values.get(column)
            if value is None:
                cells.append("—")
            elif column == FLOOR:
                cells.append(_fmt_time(value, row.unit))
            else:
                ratio = row.ratios.get(column)
                cells.append(
                    f"{_fmt_time(value, row.unit)} ({ratio:.2f}{TIMES})"
                    if ratio is not None
                    else _fmt_time(value, row.unit)
                )
        target = f"≤ {row.target:.2f}{TIMES}" if row.target else ""
        out.append(f"| {row.title} | " + " | ".join(cells) + f" | {target} |")
    out.append("")
    for row in report.rows:
        for note in row.notes:
            out.append(f"- {row.title}: {note}")
    if report.skipped:
        out.append("")
        out.append("Skipped: " + "; ".join(f"{name} ({why})" for name, why in sorted(report.skipped.items())) + ".")
    out += render_sweep(report)
    out += ["", "## In-process costs (no network)", "", "CPU time of the benchmark process (`time.process_time`), "
            "median of rounds: on a shared machine, wall time would count other processes' turns.", "",
            "| | median | |", "|---|---|---|"]  # fmt: skip
    for title, value, note in report.inprocess:
        out.append(f"| {title} | {_fmt_time(value, 'µs')} | {note} |")
    out += ["", "## Many conversations at once", "", "| | |", "|---|---|"]
    for title, value in report.concurrency:
        out.append(f"| {title} | {value} |")
    out += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|"]
    for title, measured, ok in report.checks:
        out.append(f"| {title} | {measured} | {'yes' if ok else '**no**'} |")
    out += ["", "## Where the remaining cost is", ""]
    out += [
        "- **import**: `from mistral_agents import MistralClient` pays for pydantic's model machinery (schema "
        "generation, `annotated_types`, `pydantic.types`, the plugin loader's `importlib.metadata`) when it defines "
        "its wire models: about 40 ms that `from pydantic import BaseModel` alone never loads (see the "
        "'one model defined' line: any pydantic user pays it). Our own modules are about 13 ms of "
        "`python -X importtime`; `asyncio`, `tenacity`, `docstring_parser`, the embeddings and model-list models "
        "stay off the plain-chat path.",
        "- **streaming**: each chunk becomes a validated pydantic model (about 10 µs a chunk), where the floor "
        "does `json.loads` and dict look-ups.",
        (
            "- **one agent step in-process**: no single hot spot (cProfile, 2,000 runs): per step about 25 µs "
            "building and `json.dumps`-encoding the body (the tool spec and the transcript; each message is put in "
            "wire form once per run), 20 µs"
            " pydantic decoding of the response, 30 µs of the loop itself (the step generator, the transcript id "
            "check, usage sums, the tool-message model), 10 µs in the client's request path; the rest of a step's"
            " time is httpx building and sending the request."
        ),
        "- **concurrency (the sweep)**: profiled with pyinstrument (100 concurrent chats, 100 keep-alive "
        "connections): about 70 % of the time was httpcore's `AsyncConnectionPool._assign_requests_to_connections`, "
        "which runs at every request and every response close and, for each connection, counts the idle ones over "
        "the whole list (quadratic in the pool size) and checks expiry by fetching the socket through anyio's "
        "attribute table and polling it; with many queued requests it also rescans the whole queue (the N = 1,000 "
        "floor). Without `sniffio` installed, httpcore also retries a failed `import sniffio` (about 40 µs) "
        "several times per request. Our client now owns `mistral_agents._pool.AsyncPool`: idle connections on a "
        "stack, waiters in a FIFO handed the next free connection, httpcore's HTTP/1.1 connections and httpx's "
        "errors. What remains is httpx's own per-request cost (client, httpcore, h11, anyio streams): the "
        '`http_backend="aiohttp"` column shows what the same client costs without it.',
    ]
    out += ["", "## Machine", ""]
    for key, value in info:
        out.append(f"- {key}: {value}")
    if report.load:
        out.append("- load average (1 / 5 / 15 min) before each section: " + "; ".join(report.load))
    out.append("")
    return "\n".join(out)


def render_sweep(report: Report) -> list[str]:
    if not report.sweep:
        return []
    out = ["", "## Concurrency sweep", ""]
    out.append(
        "N concurrent `chat` calls on one client, steady state: the clients are made once per server, one warm-up "
        "batch per N, then interleaved timed rounds (median shown; a round at N = 1 and 10 runs 100 and 10 batches "
        "and counts the time per batch). The ratio is the median over rounds of the column's time over raw httpx's "
        "in the same round; for the aiohttp backend the second ratio is over raw aiohttp. Lower is better. "
        "Raw httpx: `httpx.AsyncClient(timeout=120)` (its defaults otherwise: 100 connections, 20 kept alive; the "
        "default 5 s pool timeout fails outright at N = 1,000 on this machine)."
    )
    for server in dict.fromkeys(row.server for row in report.sweep):
        rows = [row for row in report.sweep if row.server == server]
        present = [c for c in SWEEP_COLUMNS if any(r.values.get(c) is not None for r in rows)]
        out += [
            "",
            f"### Against {server}",
            "",
            "| N | " + " | ".join(present) + " |",
            "|---" * (len(present) + 1) + "|",
        ]
        for row in rows:
            cells = []
            for column in present:
                value = row.values.get(column)
                if value is None:
                    cells.append("—")
                    continue
                text = _fmt_time(value, "ms")
                ratio = row.ratios.get(column)
                if column != FLOOR and ratio is not None:
                    text += f" ({ratio:.2f}{TIMES})"
                if column == FAST and row.fast_over_aiohttp is not None:
                    text += f", {row.fast_over_aiohttp:.2f}{TIMES} raw aiohttp"
                cells.append(text)
            out.append(f"| {row.n:,} | " + " | ".join(cells) + " |")
        chart = f"sweep-{server.replace(' ', '-').replace('.', '-')}.svg"
        if chart in report.charts:
            out += ["", f"![Requests per second against {server}](benchmarks/{chart})"]
    return out


def evaluate(report: Report) -> None:
    for row in report.rows:
        if row.target is None:
            continue
        ratio = row.ratios.get(OURS)
        if ratio is None:
            report.checks.append((f"{row.title}: ≤ {row.target}{TIMES}", "not measured", False))
            continue
        peers = [r for c, r in row.ratios.items() if c not in (FLOOR, OURS)]
        best_peer = f", best peer {min(peers):.2f}{TIMES}" if peers else ""
        report.checks.append(
            (f"{row.title}: ≤ {row.target:.2f}{TIMES} the floor", f"{ratio:.2f}{TIMES}{best_peer}", ratio <= row.target)
        )


def write_doc(path: Path, text: str) -> None:
    """Write ``text``, keeping any ``## Soak`` section another tool appends to the file."""
    kept = ""
    if path.exists():
        old = path.read_text()
        index = old.find("\n## Soak")
        if old.startswith("## Soak"):
            index = 0
        if index >= 0:
            kept = old[index:].lstrip("\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.rstrip("\n") + "\n" + ("\n" + kept if kept else ""))


# --------------------------------------------------------------------------------------------------- main
def each(bench: Callable[[Report, str, int, int], None], report: Report, endpoint: str, rounds: int, ns: Any) -> None:
    for n in ns:
        bench(report, endpoint, rounds, n)


def run_steps(steps: list[tuple[str, Callable[[], None]]], wanted: Callable[[str], bool], report: Report) -> None:
    """Run the wanted sections, noting the machine's load average before each (the runs share the machine)."""
    for name, step in steps:
        if wanted(name):
            load = load_average()
            t0 = time.perf_counter()
            step()
            spent = time.perf_counter() - t0
            report.load.append(f"{name}: load average {load} before, {spent:.0f} s")
            print(f"[{name}: {spent:.1f} s, load before {load}]", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="mistral-agents benchmarks")
    parser.add_argument("--quick", action="store_true", help="fewer rounds and requests (about a minute)")
    parser.add_argument("--check", action="store_true", help="exit 1 if one of our ratios misses its target")
    parser.add_argument("--output", type=Path, default=None, help="write the markdown report here")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated sections: import,chat,stream,async,loop,loops,sweep,inprocess,concurrency",
    )
    args = parser.parse_args(argv)
    only = {s.strip() for s in args.only.split(",") if s.strip()}

    def wanted(section: str) -> bool:
        return not only or section in only

    quick = args.quick
    rounds = 5 if quick else 15
    report = Report(quick=quick)
    started = time.perf_counter()
    sweep_rounds = 5 if quick else 7
    with fast_server() as endpoint:
        steps: list[tuple[str, Callable[[], None]]] = [
            ("import", lambda: bench_imports(report, 3 if quick else 9)),
            ("chat", lambda: bench_chat(report, endpoint, rounds, 40 if quick else 150)),
            ("stream", lambda: bench_stream(report, endpoint, rounds, 30 if quick else 100)),
            ("async", lambda: each(bench_async, report, endpoint, 5 if quick else 9, (10, 100))),
            ("loop", lambda: bench_tool_loop(report, endpoint, rounds, 20 if quick else 60)),
            ("loops", lambda: each(bench_concurrent_loops, report, endpoint, 5 if quick else 7, (10, 100))),
            ("sweep", lambda: bench_sweep(report, endpoint, "fast_server.py", sweep_rounds, SWEEP_NS)),
            ("inprocess", lambda: bench_inprocess(report, 5 if quick else 9, 300 if quick else 2000)),
            ("concurrency", lambda: bench_concurrent_runs(report, endpoint, 1000)),
        ]  # fmt: skip
        run_steps(steps, wanted, report)
    if wanted("sweep"):
        with fast_server("asgi_server.py") as endpoint:
            uvicorn = [("sweep", lambda: bench_sweep(report, endpoint, "uvicorn", sweep_rounds, SWEEP_NS))]
            run_steps(uvicorn, wanted, report)
        if args.output is not None:
            report.charts = sweep_charts(report, args.output.parent / "benchmarks")
    evaluate(report)
    evaluate_sweep(report)
    command = "python benchmarks/run.py" + (" --quick" if quick else "")
    text = render(report, machine(), command)
    print(text)
    print(f"[total {time.perf_counter() - started:.0f} s]", file=sys.stderr)
    if args.output is not None:
        write_doc(args.output, text)
    if args.check:
        missed = [title for title, _, ok in report.checks if not ok]
        for title in missed:
            print(f"MISSED: {title}", file=sys.stderr)
        return 1 if missed else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
