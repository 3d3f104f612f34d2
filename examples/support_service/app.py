"""The payment-status support bot as a web service: customers chat with it, staff approve the refunds it asks for.

    uvicorn examples.support_service.app:app --workers 4     # SUPPORT_DATABASE=postgresql://... for Postgres

Pages: ``GET /`` the customers' web chat, ``GET /staff`` the staff's approvals (static pages, no build step).

- ``POST /api/customers/{customer_id}/messages`` ``{"text": "..."}`` (that customer): one turn, as server-sent events.
- ``GET /api/customers/{customer_id}/conversation`` (that customer): the stored transcript and the calls waiting
  for our team.
- ``GET /api/approvals`` (staff): the calls waiting for a decision across customers, and the latest decisions.
- ``POST /api/customers/{customer_id}/approvals`` ``{"decisions": {"<tool_call_id>": true}}`` (staff): a decision
  on calls that wait; the run resumes and streams like a turn (and finishes even if the staff member leaves).
- ``GET /api/whoami``, ``POST /api/logout``; the demo sign-in ``POST /api/demo/customer`` and ``/api/demo/staff``.

Who may call what is in auth.py: a signed cookie per role, the customer id taken from the credential, a CSRF token
on every request that changes something. Events: ``text`` (``{"delta"}``), ``tool_call`` (``{"id", "name",
"arguments"}``), ``tool_result`` (``{"id", "name", "content", "ok"}``), ``approval_required`` (``{"pending":
[{"tool_call_id", "name", "arguments"}]}``), ``done`` (``{"output", "paused"}``) and ``error`` (``{"message"}``).

Nothing is kept in a worker's memory between requests: the database holds the conversations (a run paused for
approval included) and the approvals, so a decision may reach any worker, after any restart.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, HTTPException, Request, Response
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from mistral_agents import (
    Agent,
    AgentError,
    FinalResult,
    MistralException,
    PendingCall,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    messages_to_json,
    pending_calls,
)
from mistral_agents.sessions import Session, SessionBusyError

from .auth import (
    Caller,
    Credentials,
    CustomerToken,
    Role,
    Settings,
    StaffToken,
    customer_writes,
    password_matches,
    same_site,
    signed_in_customer,
    signed_in_staff,
    staff_writes,
)
from .bot import Customer, build_agent, is_offline, make_client
from .store import SessionStore

STATIC = Path(__file__).with_name("static")
ID_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
CustomerId = Annotated[str, PathParam(pattern=ID_PATTERN)]
#: The static pages load nothing but their own script and style sheet: no inline script, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
#: A decision recorded this long ago on a call that still waits was left by a worker that stopped before resuming.
STALLED_AFTER = 10.0
logger = logging.getLogger("support_service")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = Settings.from_env(offline_model=is_offline())
    if settings.demo_login:
        password = settings.staff_password if settings.staff_password_derived else "SUPPORT_STAFF_PASSWORD"
        logger.warning("DEMO sign-in is on: anyone may sign in as any customer; staff with the password %s", password)
    store = SessionStore()
    await asyncio.to_thread(store.open)
    client = make_client()
    agent = build_agent(client)
    app.state.settings, app.state.credentials = settings, Credentials(settings.secret_key)
    app.state.store, app.state.agent, app.state.background = store, agent, set()
    try:
        yield
    finally:
        for task in list(app.state.background):  # resumed runs still going (their staff member left)
            with suppress(asyncio.CancelledError):
                await task
        await agent.aclose()
        await client.close()
        await asyncio.to_thread(store.close)


app = FastAPI(title="Payment-status support bot", lifespan=lifespan, docs_url=None, redoc_url=None)
app.mount("/static", StaticFiles(directory=STATIC), name="static")


@app.middleware("http")
async def security_headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
    response = await call_next(request)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Frame-Options"] = "DENY"
    return response


class Turn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class Decisions(BaseModel):
    decisions: dict[str, bool] = Field(min_length=1, max_length=16)


class CustomerSignIn(BaseModel):
    customer_id: str = Field(pattern=ID_PATTERN)


class StaffSignIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9 ._@-]{1,64}$")
    password: str = Field(max_length=200)


class SignOut(BaseModel):
    role: Role


def sse(event: str, data: Mapping[str, Any]) -> str:
    """One server-sent event with a JSON payload (JSON has no raw newlines: one ``data:`` line)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream(events: AsyncIterator[str]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Worker-Pid": str(os.getpid())}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


def own(customer_id: str, caller: Caller) -> None:
    """The path names the signed-in customer, or the request is refused (the id comes from the credential)."""
    if caller.subject != customer_id:
        raise HTTPException(403, "This is not your conversation.")


async def run_events(
    customer_id: str, prompt: str | None, approvals: dict[str, bool] | None = None, lock_timeout: float = 60.0
) -> AsyncIterator[str]:
    """A run (or a resumed one) on the customer's session, as SSE; failures after the first byte go in-band."""
    agent: Agent[str] = app.state.agent
    store: SessionStore = app.state.store
    deps = Customer(customer_id, store)
    try:
        async with store.runs, store.session(customer_id, lock_timeout) as session:
            async for event in agent.arun_stream(prompt, session=session, approvals=approvals, deps=deps):
                if isinstance(event, TextDelta):
                    yield sse("text", {"delta": event.text})
                elif isinstance(event, ToolCallEvent):
                    call = {"id": event.tool_call_id, "name": event.name, "arguments": event.arguments}
                    yield sse("tool_call", call)
                elif isinstance(event, ToolResultEvent):
                    result = {"id": event.tool_call_id, "name": event.name, "content": event.outcome.content}
                    yield sse("tool_result", {**result, "ok": event.ok})
                elif isinstance(event, FinalResult):
                    if event.result.paused:
                        await asyncio.to_thread(store.request_approvals, customer_id, event.result.pending)
                        pending = [call.to_data() for call in event.result.pending]
                        yield sse("approval_required", {"pending": pending})
                    yield sse("done", {"output": event.result.output, "paused": event.result.paused})
    except SessionBusyError:
        yield sse("error", {"message": "This conversation is busy with another request; try again."})
    except (MistralException, AgentError, ValueError) as error:
        yield sse("error", {"message": str(error)})


def in_background(work: Coroutine[Any, Any, None]) -> None:
    """Run ``work`` to its end whoever listens (the worker's shutdown waits for it)."""
    task = asyncio.create_task(work)
    app.state.background.add(task)
    task.add_done_callback(app.state.background.discard)


async def resume(customer_id: str, decisions: dict[str, bool], staff: str) -> AsyncIterator[str]:
    """The run resumed with ``staff``'s decisions, in a task of its own: it finishes even if nobody listens.

    Calls the run did not get to (it failed before them) are released: they wait for a decision again.
    """
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    async def run() -> None:
        try:
            async for frame in run_events(customer_id, None, decisions):
                queue.put_nowait(frame)
        finally:
            async with app.state.store.session(customer_id) as session:
                still = {call.tool_call_id for call in await waiting_for_approval(customer_id, session)}
            if still & set(decisions):
                await asyncio.to_thread(app.state.store.release, customer_id, still & set(decisions), staff)
            queue.put_nowait(None)

    in_background(run())
    while (frame := await queue.get()) is not None:
        yield frame


async def carry_out_stalled(customer_id: str, pending: list[PendingCall]) -> None:
    """Resume a run whose recorded decisions were never carried out: the worker deciding them stopped first.

    With ``lock_timeout=0`` nothing happens while a run holds the conversation (a decision being carried out now),
    and the session lets a call run once: a decision is never carried out twice.
    """
    ids = [call.tool_call_id for call in pending]
    decided = await asyncio.to_thread(app.state.store.decided_before, customer_id, ids, STALLED_AFTER)
    if decided:

        async def run() -> None:
            async for _ in run_events(customer_id, None, decided, lock_timeout=0):
                pass

        in_background(run())


async def waiting_for_approval(customer_id: str, session: Session) -> list[PendingCall]:
    """The calls of this customer's paused run that wait for our team (recorded for the staff page, once)."""
    pending = pending_calls(await session.aget_messages(), app.state.agent.tools)
    if pending:
        await asyncio.to_thread(app.state.store.request_approvals, customer_id, pending)
    return pending


# --- pages -------------------------------------------------------------------------------------------------------
@app.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@app.get("/staff", include_in_schema=False)
async def staff_page() -> FileResponse:
    return FileResponse(STATIC / "staff.html", media_type="text/html")


@app.get("/healthz")
async def healthz() -> dict[str, Any]:
    return {"ok": True, "pid": os.getpid()}


# --- who is calling ----------------------------------------------------------------------------------------------
@app.get("/api/whoami")
async def whoami(request: Request, customer: CustomerToken, staff: StaffToken) -> dict[str, Any]:
    """The signed-in customer and staff member (each with the CSRF token their writes must carry), or None."""
    credentials: Credentials = app.state.credentials
    caller, member = credentials.read("customer", customer), credentials.read("staff", staff)
    return {
        "customer": caller and {"customer_id": caller.subject, "csrf_token": caller.csrf_token},
        "staff": member and {"name": member.subject, "csrf_token": member.csrf_token},
        "demo_login": app.state.settings.demo_login,
    }


@app.post("/api/logout", dependencies=[Depends(same_site)])
async def logout(response: Response, body: SignOut) -> dict[str, bool]:
    Credentials.clear(response, body.role)
    return {"ok": True}


def demo_only() -> None:
    if not app.state.settings.demo_login:
        raise HTTPException(404, "Not Found")


@app.post("/api/demo/customer", dependencies=[Depends(demo_only), Depends(same_site)])
async def demo_customer(request: Request, response: Response, body: CustomerSignIn) -> dict[str, Any]:
    """DEMO: sign in as any customer id, no password. Replace with your identity provider's sign-in."""
    caller = app.state.credentials.issue(request, response, "customer", body.customer_id)
    return {"customer_id": caller.subject, "csrf_token": caller.csrf_token}


@app.post("/api/demo/staff", dependencies=[Depends(demo_only), Depends(same_site)])
async def demo_staff(request: Request, response: Response, body: StaffSignIn) -> dict[str, Any]:
    """DEMO: sign in as staff with the password the server logged. Replace with your identity provider's."""
    if not password_matches(body.password, app.state.settings.staff_password):
        raise HTTPException(401, "Wrong staff password.")
    caller = app.state.credentials.issue(request, response, "staff", body.name)
    return {"name": caller.subject, "csrf_token": caller.csrf_token}


# --- customers ---------------------------------------------------------------------------------------------------
@app.get("/api/customers/{customer_id}/conversation")
async def conversation(
    customer_id: CustomerId, caller: Annotated[Caller, Depends(signed_in_customer)]
) -> dict[str, Any]:
    own(customer_id, caller)
    async with app.state.store.session(customer_id) as session:
        messages = await session.aget_messages()
        pending = await waiting_for_approval(customer_id, session)
    if pending:
        await carry_out_stalled(customer_id, pending)
    return {
        "customer_id": customer_id,
        "messages": json.loads(messages_to_json(messages)),
        "pending": [call.to_data() for call in pending],
    }


@app.post("/api/customers/{customer_id}/messages")
async def post_message(
    customer_id: CustomerId, turn: Turn, caller: Annotated[Caller, Depends(customer_writes)]
) -> StreamingResponse:
    own(customer_id, caller)
    async with app.state.store.session(customer_id) as session:
        if await waiting_for_approval(customer_id, session):
            raise HTTPException(409, "A refund is waiting for our team's decision.")
    return stream(run_events(customer_id, turn.text))


# --- staff -------------------------------------------------------------------------------------------------------
@app.get("/api/approvals")
async def approvals(caller: Annotated[Caller, Depends(signed_in_staff)]) -> dict[str, Any]:
    """What waits for a decision (customer, tool, arguments, since when), and the latest decisions (who, when)."""
    store: SessionStore = app.state.store
    waiting, decided = await asyncio.gather(asyncio.to_thread(store.waiting), asyncio.to_thread(store.decided))
    return {"waiting": waiting, "decided": decided}


@app.post("/api/customers/{customer_id}/approvals")
async def post_approvals(
    customer_id: CustomerId, body: Decisions, caller: Annotated[Caller, Depends(staff_writes)]
) -> StreamingResponse:
    """A staff member's decisions on calls that wait: claimed in the audit trail, then the run resumes with them."""
    async with app.state.store.session(customer_id) as session:
        pending = {call.tool_call_id for call in await waiting_for_approval(customer_id, session)}
    unknown = sorted(set(body.decisions) - pending)
    if unknown:
        raise HTTPException(409, f"Not waiting for a decision: {', '.join(unknown)}")
    refused = await asyncio.to_thread(app.state.store.claim, customer_id, body.decisions, caller.subject)
    if refused:  # another staff member decided first
        raise HTTPException(409, f"Already decided: {', '.join(sorted(refused))}")
    return stream(resume(customer_id, body.decisions, caller.subject))
