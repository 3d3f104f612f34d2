"""Real MCP servers for the tests: the SDK-written toolbox over stdio (a subprocess) and streamable HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("mcp")

from mistral_agents.mcp import MCPServerHTTP, MCPServerStdio

from ..agent.conftest import h  # noqa: F401 - the sync/async harness: each test runs with run and arun

HERE = Path(__file__).resolve().parent
TOOLBOX = str(HERE / "toolbox_server.py")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with status {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def start_http(*command: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen([*command, str(port)], stdin=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
    except BaseException:
        process.kill()
        process.wait()
        raise
    return process, f"http://127.0.0.1:{port}/mcp"


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="session")
def toolbox_url() -> Iterator[str]:
    process, url = start_http(sys.executable, TOOLBOX, "--http")
    yield url
    stop(process)


@pytest.fixture(scope="session")
def shared_stdio() -> Iterator[MCPServerStdio]:
    """One toolbox subprocess shared by the tests that do not change it (each start costs a second or two)."""
    server = MCPServerStdio(sys.executable, [TOOLBOX], timeout=10)
    yield server
    server.close()


@pytest.fixture(scope="session")
def shared_http(toolbox_url: str) -> Iterator[MCPServerHTTP]:
    server = MCPServerHTTP(toolbox_url, timeout=10)
    yield server
    server.close()


@pytest.fixture(params=["stdio", "http"])
def shared(request: pytest.FixtureRequest) -> MCPServerStdio | MCPServerHTTP:
    """The shared toolbox, over each transport."""
    return request.getfixturevalue(f"shared_{request.param}")  # type: ignore[no-any-return]
