"""The examples run, against the offline model (no MISTRAL_API_KEY), as a user would start them."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def run_example(name: str, tmp_path: Path, *args: str) -> str:
    env = {key: value for key, value in os.environ.items() if key != "MISTRAL_API_KEY"}
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_async_many_users(tmp_path: Path) -> None:
    out = run_example("async_many_users.py", tmp_path, "--users", "20", "--concurrency", "8")
    assert "20 conversations (40 agent runs) on the offline model" in out
    assert "user 1: The status of transaction T1002 is Unpaid. / The date of transaction T1002 is 2021-10-06." in out


def test_background_worker(tmp_path: Path) -> None:
    out = run_example("background_worker.py", tmp_path)
    assert "12 jobs done, 0 failed" in out
    assert "job 4: The status of transaction T1005 is Pending." in out


def test_notebook(tmp_path: Path) -> None:
    out = run_example("notebook.py", tmp_path)
    assert '"name": "get_order_status"' in out
    assert "[calling get_order_status(" in out
    assert "carrier of order A-17 is DHL" in out


def test_payment_status_and_tracing_examples(tmp_path: Path) -> None:
    assert "The status of transaction T1001 is Paid." in run_example("payment_status.py", tmp_path)
    assert run_example("tracing_hooks.py", tmp_path)


def _load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # as an import would: annotations resolve in it
    spec.loader.exec_module(module)
    return module


# Newer starlette asks for its own httpx fork in TestClient; the plain httpx it warns about works.
@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_fastapi_app_streams_sse(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MISTRAL_API_KEY", raising=False)
    pytest.importorskip("fastapi")
    from fastapi.testclient import TestClient

    app = _load("fastapi_app", monkeypatch).app
    with TestClient(app) as http:
        assert "EventSource" in http.get("/").text
        with http.stream("GET", "/chat/stream", params={"prompt": "What's the status of T1001?"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            body = "".join(response.iter_text())
        events = [block for block in body.split("\n\n") if block]
        kinds = [block.split("\n")[0].removeprefix("event: ") for block in events if block.startswith("event: ")]
        assert kinds == ["tool_call", "tool_result", "done"]
        text = "".join(block.removeprefix("data: ") for block in events if not block.startswith("event: "))
        assert text == "The status of transaction T1001 is Paid."
        done = json.loads(events[-1].split("data: ", 1)[1])
        assert done["output"] == text and done["steps"] == 2

        first = http.post("/chat", json={"prompt": "What's the status of my transaction?"}).json()
        assert first["output"] == "Could you please provide your transaction id?"
        second = http.post("/chat", json={"prompt": "It is T1002.", "history": first["history"]}).json()
        assert second["output"] == "The status of transaction T1002 is Unpaid."
