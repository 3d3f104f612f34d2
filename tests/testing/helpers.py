"""Helpers for the offline-model tests: the seed's payment tools and a hand-written SSE reader."""

from __future__ import annotations

import json
from typing import Any

MODEL = "mistral-large-latest"


def payment_tool(name: str, description: str) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": {"transaction_id": {"type": "string", "description": "The transaction id."}},
                "required": ["transaction_id"],
            },
        },
    }


PAYMENT_TOOLS = [
    payment_tool("retrieve_payment_status", "Get payment status of a transaction"),
    payment_tool("retrieve_payment_date", "Get payment date of a transaction"),
]


def sse_events(raw: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body: parsed JSON, or the literal ``"[DONE]"``."""
    assert raw.endswith("\n\n"), "every SSE event ends with a blank line"
    events: list[Any] = []
    for block in raw.split("\n\n"):
        if not block:
            continue
        assert block.startswith("data: "), block
        payload = block[len("data: ") :]
        events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def tool_call_turn(message: dict[str, Any]) -> dict[str, Any]:
    """The assistant message to append to the history, as a client would send it back."""
    return {"role": "assistant", "content": message["content"] or "", "tool_calls": message["tool_calls"]}
