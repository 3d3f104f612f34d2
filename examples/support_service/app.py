"""The payment-status support bot as a web service: one conversation per customer, answers streamed as SSE.

    uvicorn examples.support_service.app:app --workers 4     # SUPPORT_DATABASE=postgresql://... for Postgres

- ``GET /``: the web chat (one static page, no build step).
- ``POST /api/customers/{customer_id}/messages`` ``{"text": "..."}``: one turn, streamed as server-sent events.
- ``POST /api/customers/{customer_id}/approvals`` ``{"decisions": {"<tool_call_id>": true}}``: a human's decision
  on the refund a paused run waits for; the run resumes and streams like a turn.
- ``GET /api/customers/{customer_id}/conversation``: the stored transcript and the calls waiting for approval.

Events: ``text`` (``{"delta"}``), ``tool_call`` (``{"id", "name", "arguments"}``), ``tool_result`` (``{"id", "name",
"content", "ok"}``), ``approval_required`` (``{"pending": [{"tool_call_id", "name", "arguments"}]}``), ``done``
(``{"output", "paused"}``) and ``error`` (``{"message"}``) — every one a JSON object.

Nothing is kept in a worker's memory between requests: the session (Postgres or SQLite) holds the conversation,
including a run paused for approval, so the approval may reach any worker, after any restart.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, StreamingResponse
from pydantic import BaseModel, Field

from mistral_agents import (
    Agent,
    AgentError,
    FinalResult,
    MistralException,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
    messages_to_json,
    pending_calls,
)
from mistral_agents.sessions import Session, SessionBusyError

from .bot import build_agent, make_client
from .store import SessionStore

PAGE = Path(__file__).with_name("static") / "index.html"
CustomerId = Annotated[str, PathParam(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    store = SessionStore()
    await asyncio.to_thread(store.open)
    client = make_client()
    agent = build_agent(client)
    app.state.store, app.state.agent = store, agent
    try:
        yield
    finally:
        await agent.aclose()
        await client.close()
        await asyncio.to_thread(store.close)


app = FastAPI(title="Payment-status support bot", lifespan=lifespan)


class Turn(BaseModel):
    text: str = Field(min_length=1, max_length=4000)


class Decisions(BaseModel):
    decisions: dict[str, bool] = Field(min_length=1)


def sse(event: str, data: Mapping[str, Any]) -> str:
    """One server-sent event with a JSON payload (JSON has no raw newlines: one ``data:`` line)."""
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def stream(events: AsyncIterator[str]) -> StreamingResponse:
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "X-Worker-Pid": str(os.getpid())}
    return StreamingResponse(events, media_type="text/event-stream", headers=headers)


async def run_events(
    customer_id: str, prompt: str | None, approvals: dict[str, bool] | None = None
) -> AsyncIterator[str]:
    """A run (or a resumed one) on the customer's session, as SSE; failures after the first byte go in-band."""
    agent: Agent[str] = app.state.agent
    store: SessionStore = app.state.store
    try:
        async with store.runs, store.session(customer_id) as session:
            async for event in agent.arun_stream(prompt, session=session, approvals=approvals):
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
                        pending = [asdict(call) for call in event.result.pending]
                        yield sse("approval_required", {"pending": pending})
                    yield sse("done", {"output": event.result.output, "paused": event.result.paused})
    except SessionBusyError:
        yield sse("error", {"message": "This conversation is busy with another request; try again."})
    except (MistralException, AgentError, ValueError) as error:
        yield sse("error", {"message": str(error)})


async def waiting_for_approval(session: Session) -> list[dict[str, str]]:
    """The calls of this customer's paused run that wait for a human (none when no run is paused)."""
    return [asdict(call) for call in pending_calls(await session.aget_messages(), app.state.agent.tools)]


@app.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(PAGE, media_type="text/html")


@app.get("/healthz")
async def healthz() -> dict[str, Any]:
    return {"ok": True, "pid": os.getpid()}


@app.get("/api/customers/{customer_id}/conversation")
async def conversation(customer_id: CustomerId) -> dict[str, Any]:
    async with app.state.store.session(customer_id) as session:
        messages = await session.aget_messages()
        pending = await waiting_for_approval(session)
    return {"customer_id": customer_id, "messages": json.loads(messages_to_json(messages)), "pending": pending}


@app.post("/api/customers/{customer_id}/messages")
async def post_message(customer_id: CustomerId, turn: Turn) -> StreamingResponse:
    async with app.state.store.session(customer_id) as session:
        if await waiting_for_approval(session):
            raise HTTPException(409, "A refund is waiting for approval: approve or deny it first.")
    return stream(run_events(customer_id, turn.text))


@app.post("/api/customers/{customer_id}/approvals")
async def post_approvals(customer_id: CustomerId, body: Decisions) -> StreamingResponse:
    async with app.state.store.session(customer_id) as session:
        pending = {call["tool_call_id"] for call in await waiting_for_approval(session)}
    unknown = sorted(set(body.decisions) - pending)
    if unknown:
        raise HTTPException(409, f"Not waiting for approval: {', '.join(unknown)}")
    return stream(run_events(customer_id, None, body.decisions))
