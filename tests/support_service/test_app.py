"""The support service in-process (FastAPI's TestClient) on SQLite: the HTTP contract, its refusals, its headers.

The attacks over real HTTP, on four workers, are in test_security.py; this file checks what one worker does.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .harness import Answer, parse_sse

pytest.importorskip("fastapi")
pytest.importorskip("itsdangerous")
# Newer starlette asks for its own httpx fork in TestClient; the plain httpx it warns about works.
pytestmark = pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
KEY, STAFF_PASSWORD = "in-process-test-key", "in-process-staff-password"


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    path = str(tmp_path / "support.db")
    monkeypatch.setenv("SUPPORT_DATABASE", path)
    monkeypatch.setenv("SUPPORT_SECRET_KEY", KEY)  # every "worker" below checks what another signed
    monkeypatch.setenv("SUPPORT_STAFF_PASSWORD", STAFF_PASSWORD)
    for name in ("MISTRAL_ENDPOINT", "MISTRAL_API_KEY", "SUPPORT_DEMO_LOGIN"):
        monkeypatch.delenv(name, raising=False)  # the offline model: the demo sign-in is on
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


def sign_in(http: Any, role: str, name: str) -> dict[str, str]:
    """Sign ``http`` in (its cookie jar keeps one credential per role): the headers its writes must send."""
    if role == "customer":
        response = http.post("/api/demo/customer", json={"customer_id": name})
    else:
        response = http.post("/api/demo/staff", json={"name": name, "password": STAFF_PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def post(http: Any, path: str, body: dict[str, Any], headers: dict[str, str]) -> Answer:
    with http.stream("POST", path, json=body, headers=headers) as response:
        text = "".join(response.iter_text())
        assert response.status_code == 200, text
        return Answer(parse_sse(text), response.headers["x-worker-pid"])


def test_a_turn_streams_text_tool_calls_and_results(http: Any) -> None:
    csrf = sign_in(http, "customer", "c1")
    answer = post(http, "/api/customers/c1/messages", {"text": "What's the status of my transaction T1002?"}, csrf)
    assert answer.kinds[:2] == ["tool_call", "tool_result"] and answer.kinds[-1] == "done"
    assert set(answer.kinds[2:-1]) == {"text"}
    (call,), (result,) = answer.of("tool_call"), answer.of("tool_result")
    assert call["name"] == "retrieve_payment_status" and result == {**result, "id": call["id"], "ok": True}
    assert "Unpaid" in answer.text
    assert answer.of("done") == [{"output": answer.text, "paused": False}]
    stored = http.get("/api/customers/c1/conversation").json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant", "tool", "assistant"]
    assert stored["pending"] == []
    sign_in(http, "customer", "c2")  # the same browser, now signed in as another customer
    assert http.get("/api/customers/c2/conversation").json()["messages"] == []
    assert http.get("/api/customers/c1/conversation").status_code == 403


def test_a_paused_refund_survives_a_restart_and_staff_deny_it(database: str) -> None:
    with worker() as http:
        csrf = sign_in(http, "customer", "c1")
        paused = post(http, "/api/customers/c1/messages", {"text": "Please refund transaction T1001."}, csrf)
        (pending,) = paused.of("approval_required")[0]["pending"]
        assert pending["name"] == "refund_payment"
        # Nothing else is accepted until our team decides.
        busy = http.post("/api/customers/c1/messages", json={"text": "Hello?"}, headers=csrf)
        assert busy.status_code == 409 and "waiting for our team" in busy.json()["detail"]
        cookie = http.cookies["support_customer"]

    with worker() as http:  # another worker (or a restart): the paused run and the sign-in both still hold
        http.cookies.set("support_customer", cookie)
        assert http.get("/api/customers/c1/conversation").json()["pending"] == [pending]
        staff = sign_in(http, "staff", "Sam")
        (waiting,) = http.get("/api/approvals").json()["waiting"]
        assert waiting["customer_id"] == "c1" and waiting["tool_call_id"] == pending["tool_call_id"]
        resumed = post(http, "/api/customers/c1/approvals", {"decisions": {pending["tool_call_id"]: False}}, staff)
        (result,) = resumed.of("tool_result")
        assert result["ok"] is False and "refunded" not in result["content"]
        assert resumed.of("done")[0]["paused"] is False and resumed.text
        stored = http.get("/api/customers/c1/conversation").json()
        assert stored["pending"] == [] and stored["messages"][-2]["role"] == "tool"
        listed = http.get("/api/approvals").json()
        assert listed["waiting"] == [] and [(d["approved"], d["decided_by"]) for d in listed["decided"]] == [
            (False, "Sam")
        ]
        assert http.app.state.store.refunds() == []


def test_a_decision_whose_worker_stopped_before_resuming_is_carried_out_once(http: Any) -> None:
    import sqlite3

    csrf = sign_in(http, "customer", "c1")
    paused = post(http, "/api/customers/c1/messages", {"text": "Please refund transaction T1001."}, csrf)
    (pending,) = paused.of("approval_required")[0]["pending"]
    store = http.app.state.store
    # What a worker killed right after recording Sam's decision leaves: decided, not carried out, a minute ago.
    assert store.claim("c1", {pending["tool_call_id"]: True}, "Sam") == []
    with contextlib.closing(sqlite3.connect(store.database)) as conn, conn:
        conn.execute("UPDATE support_approvals SET decided_at = '2020-01-01T00:00:00.000000+00:00'")
    staff = sign_in(http, "staff", "Kim")
    replay = http.post(
        "/api/customers/c1/approvals", json={"decisions": {pending["tool_call_id"]: True}}, headers=staff
    )
    assert replay.status_code == 409  # decided already: not again
    deadline = time.monotonic() + 30
    while (stored := http.get("/api/customers/c1/conversation").json())["pending"]:  # the customer's chat polling
        assert time.monotonic() < deadline, stored
        time.sleep(0.2)
    while stored["messages"][-1]["role"] != "assistant" or stored["messages"][-1].get("tool_calls"):
        assert time.monotonic() < deadline, stored
        time.sleep(0.2)
        stored = http.get("/api/customers/c1/conversation").json()
    assert "125.50" in stored["messages"][-1]["content"]
    for _ in range(3):  # more looks change nothing
        assert http.get("/api/customers/c1/conversation").json() == stored
    (refund,) = store.refunds()
    assert refund["tool_call_id"] == pending["tool_call_id"]
    assert [(d["decided_by"], d["approved"]) for d in store.decided()] == [("Sam", True)]


def test_bad_input_is_refused_before_anything_runs(http: Any) -> None:
    csrf = sign_in(http, "customer", "c1")
    assert http.post("/api/customers/not%20an%20id/messages", json={"text": "hi"}, headers=csrf).status_code == 422
    assert http.post("/api/customers/c1/messages", json={"text": ""}, headers=csrf).status_code == 422
    assert http.post("/api/demo/customer", json={"customer_id": "no spaces"}).status_code == 422
    # What a cross-site page can send without a preflight: a text/plain form, or anything with its Origin.
    as_form = {"content-type": "text/plain"}
    assert http.post("/api/demo/customer", content='{"customer_id": "c1"}', headers=as_form).status_code == 422
    evil = {"origin": "https://evil.example"}
    assert http.post("/api/demo/customer", json={"customer_id": "c1"}, headers=evil).status_code == 403
    staff = sign_in(http, "staff", "Sam")
    assert http.post("/api/customers/c1/approvals", json={"decisions": {}}, headers=staff).status_code == 422
    assert http.get("/api/customers/c1/conversation").json()["messages"] == []


def test_expired_credentials_and_the_demo_sign_in_are_refused(http: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from itsdangerous import URLSafeTimedSerializer

    sign_in(http, "customer", "c1")
    assert http.get("/api/customers/c1/conversation").status_code == 200
    later = time.time() + 12 * 3600 + 60  # the customer credential's lifetime has passed
    monkeypatch.setattr(time, "time", lambda: later)
    assert http.get("/api/customers/c1/conversation").status_code == 401
    monkeypatch.undo()
    assert http.post("/api/demo/staff", json={"name": "Eve", "password": "guess"}).status_code == 401
    # A staff credential is signed with its own salt: the same key and payload signed for a customer is refused.
    customer_token = URLSafeTimedSerializer(KEY, salt="support-service.customer").dumps({"sub": "Eve", "csrf": "x"})
    http.cookies.clear()
    http.cookies.set("support_staff", customer_token)
    assert http.get("/api/approvals").status_code == 401
    assert http.get("/api/whoami").json() == {"customer": None, "staff": None, "demo_login": True}


def test_without_the_offline_model_the_demo_sign_in_is_off(database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MISTRAL_ENDPOINT", "http://127.0.0.1:9")  # a real model (never called here)
    with worker() as http:
        assert http.post("/api/demo/customer", json={"customer_id": "c1"}).status_code == 404
        assert http.post("/api/demo/staff", json={"name": "Sam", "password": STAFF_PASSWORD}).status_code == 404
        assert http.get("/api/whoami").json()["demo_login"] is False


def test_pages_load_only_their_own_scripts_and_send_security_headers(http: Any) -> None:
    for path, marker in [("/", 'id="prompt"'), ("/staff", 'id="waiting"')]:
        page = http.get(path)
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html") and marker in page.text
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert page.headers["x-content-type-options"] == "nosniff" and page.headers["x-frame-options"] == "DENY"
        scripts = re.findall(r"<script([^>]*)>", page.text)
        assert scripts and all('src="/static/' in attributes for attributes in scripts)  # no inline script
        assert not re.search(r"\son[a-z]+=", page.text) and "<style" not in page.text  # nor handlers, nor styles
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page.text):
            response = http.get(asset)
            assert response.status_code == 200 and response.headers["x-content-type-options"] == "nosniff"
    signed_in = http.post("/api/demo/customer", json={"customer_id": "c1"})
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie
