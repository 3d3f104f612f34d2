"""A fast, minimal Mistral-compatible chat server for the benchmarks (stdlib asyncio, HTTP/1.1 keep-alive).

It answers ``POST /v1/chat/completions`` with canned, pre-encoded bytes so that the client side is what gets
measured:

- the last message is the user's and tools are offered: a call of the first tool, ``{"city": "Paris"}``;
- otherwise (e.g. after a tool result): a short text answer;
- ``"stream": true``: the same answer as ~20 server-sent events, then ``[DONE]``.

Run it on its own with ``python benchmarks/fast_server.py [--port N]``: it prints ``PORT <n>`` once listening.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from typing import Any

CREATED = 1_700_000_000
MODEL = "mistral-small-latest"
TOOL_CALL_ID = "abcDEF123"
ANSWER = "The weather in Paris is sunny and 21 degrees; a fine day for a walk along the Seine."
USAGE = {"prompt_tokens": 24, "completion_tokens": 18, "total_tokens": 42}
STREAM_PIECES = 20


def _completion(message: dict[str, Any], finish_reason: str) -> bytes:
    body = {
        "id": "cmpl-bench",
        "object": "chat.completion",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "message": message, "finish_reason": finish_reason}],
        "usage": USAGE,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def _tool_call_message(name: str) -> dict[str, Any]:
    call = {"id": TOOL_CALL_ID, "type": "function", "function": {"name": name, "arguments": '{"city":"Paris"}'}}
    return {"role": "assistant", "content": "", "tool_calls": [call]}


def _pieces(text: str, count: int) -> list[str]:
    size = -(-len(text) // count)
    return [text[i : i + size] for i in range(0, len(text), size)]


def _stream_chunk(delta: dict[str, Any], finish_reason: str | None, usage: bool = False) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": "cmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": MODEL,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }
    if usage:
        chunk["usage"] = USAGE
    return chunk


def _stream_body(tool_name: str | None) -> bytes:
    events: list[dict[str, Any]] = []
    if tool_name is not None:
        call = _tool_call_message(tool_name)["tool_calls"][0]
        events.append(_stream_chunk({"role": "assistant", "content": ""}, None))
        events.append(_stream_chunk({"tool_calls": [{**call, "index": 0}]}, "tool_calls", usage=True))
    else:
        pieces = _pieces(ANSWER, STREAM_PIECES - 1)
        events.append(_stream_chunk({"role": "assistant", "content": ""}, None))
        for piece in pieces[:-1]:
            events.append(_stream_chunk({"content": piece}, None))
        events.append(_stream_chunk({"content": pieces[-1]}, "stop", usage=True))
    out = bytearray()
    for event in events:
        payload = b"data: " + json.dumps(event, separators=(",", ":")).encode() + b"\n\n"
        out += b"%x\r\n%s\r\n" % (len(payload), payload)
    done = b"data: [DONE]\n\n"
    out += b"%x\r\n%s\r\n0\r\n\r\n" % (len(done), done)
    return bytes(out)


def _json_response(body: bytes, status: bytes = b"200 OK") -> bytes:
    return (
        b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode() + b"\r\n\r\n" + body
    )  # fmt: skip


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\n\r\n"
)
_TEXT = _json_response(_completion({"role": "assistant", "content": ANSWER}, "stop"))
_TEXT_STREAM = _STREAM_HEAD + _stream_body(None)
_NOT_FOUND = _json_response(b'{"object":"error","message":"not found","type":"not_found"}', b"404 Not Found")
_BAD = _json_response(b'{"object":"error","message":"bad request","type":"invalid_request_error"}', b"400 Bad Request")
_cache: dict[tuple[str, bool], bytes] = {}


def answer(body: bytes) -> bytes:
    """The response bytes for a chat request body."""
    try:
        request = json.loads(body)
        messages = request["messages"]
        last_role = messages[-1]["role"]
    except (ValueError, KeyError, IndexError, TypeError):
        return _BAD
    stream = bool(request.get("stream"))
    tools = request.get("tools")
    if last_role == "user" and tools:
        name = tools[0]["function"]["name"]
        cached = _cache.get((name, stream))
        if cached is None:
            if stream:
                cached = _STREAM_HEAD + _stream_body(name)
            else:
                cached = _json_response(_completion(_tool_call_message(name), "tool_calls"))
            _cache[(name, stream)] = cached
        return cached
    return _TEXT_STREAM if stream else _TEXT


class _Connection(asyncio.Protocol):
    __slots__ = ("buffer", "transport")

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer = self.buffer + data if self.buffer else data
        transport = self.transport
        assert transport is not None
        while True:
            buffer = self.buffer
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = buffer[:end].lower()
            length = 0
            chunked = False
            close = False
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name == b"content-length":
                    length = int(value)
                elif name == b"transfer-encoding" and b"chunked" in value:
                    chunked = True
                elif name == b"connection" and b"close" in value:
                    close = True
            start = end + 4
            if chunked:
                parsed = _dechunk(buffer, start)
                if parsed is None:
                    return
                body, after = parsed
            else:
                if len(buffer) < start + length:
                    return
                body, after = buffer[start : start + length], start + length
            self.buffer = buffer[after:]
            path = head.split(b" ", 2)[1] if b" " in head else b""
            if path.rstrip(b"/").endswith(b"/chat/completions"):
                transport.write(answer(body))
            else:
                transport.write(_NOT_FOUND)
            if close:
                transport.close()
                return


def _dechunk(buffer: bytes, position: int) -> tuple[bytes, int] | None:
    parts: list[bytes] = []
    while True:
        line_end = buffer.find(b"\r\n", position)
        if line_end < 0:
            return None
        size = int(buffer[position:line_end].split(b";")[0] or b"0", 16)
        start = line_end + 2
        if size == 0:
            trailer_end = buffer.find(b"\r\n", start)
            if trailer_end < 0:
                return None
            return b"".join(parts), trailer_end + 2
        if len(buffer) < start + size + 2:
            return None
        parts.append(buffer[start : start + size])
        position = start + size + 2


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_Connection, host, port, backlog=4096, reuse_address=True)
    bound = server.sockets[0].getsockname()[1]
    sys.stdout.write(f"PORT {bound}\n")
    sys.stdout.flush()
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
