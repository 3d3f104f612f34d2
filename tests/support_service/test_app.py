"""The support service in-process (FastAPI's TestClient) on SQLite: the HTTP contract and its refusals."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import Answer, parse_sse

pytest.importorskip("fastapi")
# Newer starlette asks for its own httpx fork in TestClient; the plain httpx it warns about works.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(tmp_path / "support.db")
    monkeypatch.setenv("SUPPORT_DATABASE", path)
    monkeypatch.delenv("MISTRAL_ENDPOINT", raising=False)
    return path


@pytest.fixture
def http(database: str) -> Iterator[Any]:
    with worker() as client:
        yield client


@contextlib.contextmanager
def worker() -> Iterator[Any]:
    """The app with its lifespan run: like one worker process starting, then shutting down."""
    from fastapi.testclient import TestClient

    from examples.support_service.app import app

    with TestClient(app) as client:
        yield client


def post(http: Any, path: str, body: dict[str, Any]) -> Answer:
    with http.stream("POST", path, json=body) as response:
        text = "".join(response.iter_text())
        assert response.status_code == 200, text
        return Answer(parse_sse(text), response.headers["x-worker-pid"])


def test_a_turn_streams_text_tool_calls_and_results(http: Any) -> None:
    answer = post(http, "/api/customers/c1/messages", {"text": "What's the status of my transaction T1002?"})
    assert answer.kinds[:2] == ["tool_call", "tool_result"] and answer.kinds[-1] == "done"
    assert set(answer.kinds[2:-1]) == {"text"}
    (call,), (result,) = answer.of("tool_call"), answer.of("tool_result")
    assert call["name"] == "retrieve_payment_status" and result == {**result, "id": call["id"], "ok": True}
    assert "Unpaid" in answer.text
    assert answer.of("done") == [{"output": answer.text, "paused": False}]
    stored = http.get("/api/customers/c1/conversation").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert stored["pending"] == [] and http.get("/api/customers/c2/conversation").json()["messages"] == []


def test_a_paused_refund_survives_a_restart_and_is_denied(database: str) -> None:
    with worker() as http:
        paused = post(http, "/api/customers/c1/messages", {"text": "Please refund transaction T1001."})
        (pending,) = paused.of("approval_required")[0]["pending"]
        assert pending["name"] == "refund_payment"
        # Nothing else is accepted while a human has not decided, and only pending calls can be decided.
        busy = http.post("/api/customers/c1/messages", json={"text": "Hello?"})
        assert busy.status_code == 409 and "approve or deny" in busy.json()["detail"]
        wrong_id = {"decisions": {"aaaaaaaaa": True}}
        assert http.post("/api/customers/c1/approvals", json=wrong_id).status_code == 409
        wrong_customer = {"decisions": {pending["tool_call_id"]: True}}
        assert http.post("/api/customers/c2/approvals", json=wrong_customer).status_code == 409

    with worker() as http:  # another worker (or a restart): the paused run is in the database
        assert http.get("/api/customers/c1/conversation").json()["pending"] == [pending]
        resumed = post(http, "/api/customers/c1/approvals", {"decisions": {pending["tool_call_id"]: False}})
        (result,) = resumed.of("tool_result")
        assert result["ok"] is False and "refunded" not in result["content"]
        assert resumed.of("done")[0]["paused"] is False and resumed.text
        stored = http.get("/api/customers/c1/conversation").json()
        assert stored["pending"] == [] and stored["messages"][-2]["role"] == "tool"


def test_bad_input_is_refused_before_anything_runs(http: Any) -> None:
    assert http.post("/api/customers/not%20an%20id/messages", json={"text": "hi"}).status_code == 422
    assert http.post("/api/customers/c1/messages", json={"text": ""}).status_code == 422
    assert http.post("/api/customers/c1/approvals", json={"decisions": {}}).status_code == 422
    assert http.get("/api/customers/c1/conversation").json()["messages"] == []


def test_the_page_is_served(http: Any) -> None:
    page = http.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="prompt"' in page.text and "text/event-stream" in page.text
