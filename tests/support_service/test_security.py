"""Who may do what, tried as an attacker would, on ``uvicorn --workers 4`` over SQLite and over PostgreSQL.

Anonymous, forged, wrong-customer, cross-site, customer-approves, forged-id, other-customer's-id and replayed
decisions are all refused — with nothing run (the refund ledger stays empty) and nothing stored (the transcript
and the audit trail unchanged). Then two staff members approve the same refund at once, on any workers: it runs
exactly once, and the audit trail says who approved it and when.
"""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from .harness import (
    Answer,
    SignedIn,
    offline_model_server,
    parse_sse,
    post_events,
    sign_in,
    support_service,
)

pytest.importorskip("uvicorn")
pytest.importorskip("itsdangerous")
WORKERS = 4
REFUND = "Please refund transaction T1001."


@pytest.fixture(params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "support.db")
    dsn: str = request.getfixturevalue("postgres_database")
    return dsn


def forged(payload: dict[str, str], role: str = "customer", key: str = "not-the-key") -> str:
    from itsdangerous import URLSafeTimedSerializer

    return URLSafeTimedSerializer(key, salt=f"support-service.{role}").dumps(payload)


def with_payload(token: str, payload: dict[str, str]) -> str:
    """A real credential whose signed payload was replaced (the signature kept)."""
    _, timestamp, signature = token.split(".")
    data = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).rstrip(b"=").decode()
    return f"{data}.{timestamp}.{signature}"


async def attempt(http: httpx.AsyncClient, path: str, body: dict[str, Any], **headers: str) -> tuple[int, Answer]:
    async with http.stream("POST", path, json=body, headers=headers) as response:
        text = (await response.aread()).decode()
    return response.status_code, Answer(parse_sse(text) if response.status_code == 200 else [])


async def scenario(url: str) -> dict[str, Any]:
    """Everything over HTTP; returns what the checks after it need."""
    async with (
        httpx.AsyncClient(base_url=url, timeout=60) as alice_http,
        httpx.AsyncClient(base_url=url, timeout=60) as bob_http,
        httpx.AsyncClient(base_url=url, timeout=60) as sam_http,
        httpx.AsyncClient(base_url=url, timeout=60) as kim_http,
        httpx.AsyncClient(base_url=url, timeout=60) as anonymous,
    ):
        alice = SignedIn(alice_http, await sign_in(alice_http, "customer", "alice"))
        bob = SignedIn(bob_http, await sign_in(bob_http, "customer", "bob"))
        paused = await post_events(alice.http, "/api/customers/alice/messages", {"text": REFUND}, alice.csrf)
        ((alices,),) = [event["pending"] for event in paused.of("approval_required")]
        bobs_refund = {"text": "Please refund transaction T1002."}  # the offline model's call ids follow the text
        bobs_answer = await post_events(bob.http, "/api/customers/bob/messages", bobs_refund, bob.csrf)
        ((bobs,),) = [event["pending"] for event in bobs_answer.of("approval_required")]
        call = alices["tool_call_id"]
        assert bobs["tool_call_id"] != call
        decide = {"decisions": {call: True}}
        before = (await alice.http.get("/api/customers/alice/conversation")).json()
        assert before["pending"] == [alices]

        # Anonymous: 401 everywhere, whatever it knows.
        for method, path, body in [
            ("GET", "/api/customers/alice/conversation", None),
            ("POST", "/api/customers/alice/messages", {"text": "hi"}),
            ("POST", "/api/customers/alice/approvals", decide),
            ("GET", "/api/approvals", None),
        ]:
            response = await anonymous.request(method, path, json=body, headers={"X-CSRF-Token": alice.csrf})
            assert response.status_code == 401, (method, path, response.text)

        # Forged credentials: 401 (another key; a payload swapped under a real signature; the customer's
        # credential in the staff cookie; a staff credential signed with another key).
        real = alice.http.cookies["support_customer"]
        payload = {"sub": "alice", "csrf": alice.csrf}
        for cookie in [
            f"support_customer={forged(payload)}",
            f"support_customer={with_payload(real, {'sub': 'bob', 'csrf': alice.csrf})}",
            f"support_customer={real[:-2]}xx",
        ]:
            response = await anonymous.get("/api/customers/alice/conversation", headers={"Cookie": cookie})
            assert response.status_code == 401, cookie
        for cookie in [f"support_staff={real}", f"support_staff={forged(payload, role='staff')}"]:
            response = await anonymous.get("/api/approvals", headers={"Cookie": cookie})
            assert response.status_code == 401, cookie
            status, _ = await attempt(anonymous, "/api/customers/alice/approvals", decide, **{
                "Cookie": cookie, "X-CSRF-Token": alice.csrf})  # fmt: skip
            assert status == 401

        # Another customer: 403 on alice's conversation, whatever the path says.
        assert (await bob.http.get("/api/customers/alice/conversation")).status_code == 403
        status, _ = await attempt(
            bob.http, "/api/customers/alice/messages", {"text": "hi"}, **{"X-CSRF-Token": bob.csrf}
        )
        assert status == 403

        # The customer approving their own refund: 403 (staff only), and the staff list is not theirs either.
        for customer, path in [(alice, "/api/customers/alice/approvals"), (bob, "/api/customers/alice/approvals")]:
            status, _ = await attempt(customer.http, path, decide, **{"X-CSRF-Token": customer.csrf})
            assert status == 403
        assert (await alice.http.get("/api/approvals")).status_code == 403

        # Cross-site: no CSRF token, someone else's token, or another Origin: 403.
        for headers in [{}, {"X-CSRF-Token": bob.csrf}, {"X-CSRF-Token": alice.csrf, "Origin": "https://evil.example"}]:
            status, _ = await attempt(alice.http, "/api/customers/alice/messages", {"text": "hi"}, **headers)
            assert status == 403, headers

        sam = SignedIn(sam_http, await sign_in(sam_http, "staff", "Sam"))
        kim = SignedIn(kim_http, await sign_in(kim_http, "staff", "Kim"))
        status, _ = await attempt(sam.http, "/api/customers/alice/approvals", decide)  # staff, but no CSRF token
        assert status == 403
        bad = await sam.http.post("/api/demo/staff", json={"name": "Eve", "password": "guess"})
        assert bad.status_code == 401 and "support_staff" not in bad.cookies

        # Staff deciding what is not waiting: a forged id, another customer's call, a mix (all or none): 409.
        for path, decisions in [
            ("/api/customers/alice/approvals", {"aaaaaaaaa": True}),
            ("/api/customers/bob/approvals", {call: True}),
            ("/api/customers/alice/approvals", {call: True, bobs["tool_call_id"]: True}),
            ("/api/customers/carol/approvals", {call: True}),
        ]:
            status, _ = await attempt(sam.http, path, {"decisions": decisions}, **{"X-CSRF-Token": sam.csrf})
            assert status == 409, (path, decisions)

        # Nothing ran, nothing was stored: the transcript is as it was, both calls still wait, undecided.
        assert (await alice.http.get("/api/customers/alice/conversation")).json() == before
        listed = (await sam.http.get("/api/approvals")).json()
        assert listed["decided"] == []
        waiting = {(row["customer_id"], row["tool_call_id"]): row for row in listed["waiting"]}
        assert set(waiting) == {("alice", call), ("bob", bobs["tool_call_id"])}
        row = waiting["alice", call]
        assert (row["name"], json.loads(row["arguments"])) == ("refund_payment", {"transaction_id": "T1001"})
        assert row["requested_at"] and row["decided_by"] is None

        # Two staff members approve at once (any workers): one runs the refund, the other is refused.
        results = await asyncio.gather(
            *(attempt(member.http, "/api/customers/alice/approvals", decide, **{"X-CSRF-Token": member.csrf})
              for member in (sam, kim))
        )  # fmt: skip
        assert sorted(status for status, _ in results) == [200, 409], results
        ((winner, answer),) = [
            (name, answer) for name, (status, answer) in zip(("Sam", "Kim"), results, strict=True) if status == 200
        ]
        (result,) = answer.of("tool_result")
        assert result["ok"] and "125.50 EUR refunded" in result["content"] and "125.50" in answer.text

        # Replayed, or decided again the other way: 409.
        for decisions in [{call: True}, {call: False}]:
            status, _ = await attempt(kim.http, "/api/customers/alice/approvals", {"decisions": decisions}, **{
                "X-CSRF-Token": kim.csrf})  # fmt: skip
            assert status == 409

        after = (await alice.http.get("/api/customers/alice/conversation")).json()
        assert after["pending"] == [] and "125.50" in after["messages"][-1]["content"]
        # Signing out ends the credential in this client.
        assert (await alice.http.post("/api/logout", json={"role": "customer"})).status_code == 200
        assert (await alice.http.get("/api/customers/alice/conversation")).status_code == 401
        return {"call": call, "winner": winner, "bobs": bobs["tool_call_id"], "messages": after["messages"]}


def test_only_the_customer_reads_only_staff_decide_and_a_refund_runs_once(database: str) -> None:
    from examples.support_service.store import SessionStore

    with offline_model_server() as model_url, support_service(model_url, database, WORKERS) as service:
        seen = asyncio.run(scenario(service.url))

    refunds = [message for message in seen["messages"] if message.get("name") == "refund_payment"]
    assert len(refunds) == 1
    store = SessionStore(database)  # the audit trail and the ledger, as a team would query them
    store.open()
    try:
        (refund,) = store.refunds()
        assert (refund["customer_id"], refund["tool_call_id"], refund["transaction_id"]) == (
            "alice",
            seen["call"],
            "T1001",
        )
        (decision,) = store.decided()
        assert decision["tool_call_id"] == seen["call"] and decision["customer_id"] == "alice"
        assert decision["approved"] is True and decision["decided_by"] == seen["winner"]
        assert decision["requested_at"] <= decision["decided_at"] <= refund["refunded_at"]
        assert [(row["customer_id"], row["tool_call_id"]) for row in store.waiting()] == [("bob", seen["bobs"])]
    finally:
        store.close()
