"""An agent behind an HTTP endpoint, streaming its answer to a browser as server-sent events (SSE).

    pip install fastapi uvicorn
    uvicorn examples.fastapi_app:app --reload        # then open http://127.0.0.1:8000
    # offline model unless MISTRAL_API_KEY is set

- ``GET /``: a tiny page that sends your question and shows the answer as it streams, tool calls included;
- ``GET /chat/stream?prompt=...``: the SSE stream — ``event: tool_call`` / ``event: tool_result`` (JSON data),
  plain ``data:`` events for text, ``event: done`` with the final answer, usage and steps (``event: error`` on
  failure);
- ``POST /chat`` with ``{"prompt": "...", "history": [...]}``: the whole answer as JSON, with the history to send
  back next time.

One ``MistralAsyncClient`` (one connection pool) serves every request: created at startup, closed at shutdown.
FastAPI is needed only by this example, not by mistral-agents.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import HTMLResponse, StreamingResponse
from pydantic import BaseModel

from mistral_agents import (
    Agent,
    AgentError,
    FinalResult,
    MistralAsyncClient,
    MistralException,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
)
from mistral_agents.demo import SYSTEM_PROMPT, retrieve_payment_date, retrieve_payment_status
from mistral_agents.testing import OfflineModel


def make_client() -> MistralAsyncClient:
    if os.environ.get("MISTRAL_API_KEY"):
        return MistralAsyncClient()
    return MistralAsyncClient(endpoint="http://offline", transport=OfflineModel().transport())


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    client = make_client()
    app.state.agent = Agent(
        "mistral-large-latest",
        [retrieve_payment_status, retrieve_payment_date],
        client=client,
        system_prompt=SYSTEM_PROMPT,
    )
    yield
    await app.state.agent.aclose()
    await client.close()


app = FastAPI(title="Payment-status support bot", lifespan=lifespan)


def sse(data: str, event: str | None = None) -> str:
    """One server-sent event; multi-line data becomes several ``data:`` lines."""
    head = f"event: {event}\n" if event else ""
    return head + "".join(f"data: {line}\n" for line in data.split("\n")) + "\n"


async def answer_events(agent: Agent[str], prompt: str) -> AsyncIterator[str]:
    try:
        async for event in agent.arun_stream(prompt):
            if isinstance(event, TextDelta):
                yield sse(event.text)
            elif isinstance(event, ToolCallEvent):
                yield sse(json.dumps({"name": event.name, "arguments": event.arguments}), "tool_call")
            elif isinstance(event, ToolResultEvent):
                yield sse(
                    json.dumps({"name": event.name, "content": event.outcome.content, "ok": event.ok}), "tool_result"
                )
            elif isinstance(event, FinalResult):
                result = event.result
                done = {"output": result.output, "usage": result.usage.model_dump(), "steps": result.steps}
                yield sse(json.dumps(done), "done")
    except (MistralException, AgentError) as error:  # the status line is sent already: report in-band
        yield sse(json.dumps({"error": str(error)}), "error")


@app.get("/chat/stream")
async def chat_stream(prompt: str) -> StreamingResponse:
    return StreamingResponse(
        answer_events(app.state.agent, prompt),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


class ChatRequest(BaseModel):
    prompt: str
    history: list[dict[str, Any]] | None = None


@app.post("/chat")
async def chat(request: ChatRequest) -> dict[str, Any]:
    result = await app.state.agent.arun(request.prompt, history=request.history)
    return {
        "output": result.output,
        "tool_calls": [{"name": c.name, "arguments": c.arguments, "content": c.content} for c in result.tool_calls],
        "history": [message.model_dump(exclude_none=True) for message in result.messages],
    }


PAGE = """<!doctype html>
<meta charset="utf-8"><title>Payment-status bot</title>
<form id="f"><input id="q" size="60" value="What's the status of my transaction T1001?"> <button>Ask</button></form>
<pre id="out"></pre>
<script>
const out = document.getElementById("out");
document.getElementById("f").onsubmit = (e) => {
  e.preventDefault();
  out.textContent = "";
  const source = new EventSource("/chat/stream?prompt=" + encodeURIComponent(document.getElementById("q").value));
  source.onmessage = (m) => { out.textContent += m.data; };
  source.addEventListener("tool_call", (m) => { const c = JSON.parse(m.data);
    out.textContent += `\\n[${c.name}(${c.arguments})]\\n`; });
  source.addEventListener("tool_result", (m) => { out.textContent += `[-> ${JSON.parse(m.data).content}]\\n`; });
  source.addEventListener("done", () => source.close());
  source.addEventListener("error", () => source.close());
};
</script>
"""


@app.get("/", response_class=HTMLResponse)
async def index() -> str:
    return PAGE
