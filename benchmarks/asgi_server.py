"""The benchmark's canned chat server as an ASGI app served by uvicorn (what vLLM and most Python servers run).

Same answers as ``fast_server.py`` (plain JSON completions; a tool call when the last message is the user's and
tools are offered), through uvicorn's HTTP stack: ``python benchmarks/asgi_server.py`` prints ``PORT <n>`` once
listening on 127.0.0.1. uvloop and httptools are used when installed (``uvicorn[standard]``, the bench extra).
"""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import fast_server

_TEXT = fast_server._completion({"role": "assistant", "content": fast_server.ANSWER}, "stop")
_JSON = [(b"content-type", b"application/json")]
_cache: dict[str, bytes] = {}


def respond(body: bytes) -> tuple[int, bytes]:
    try:
        request = json.loads(body)
        last_role = request["messages"][-1]["role"]
    except (ValueError, KeyError, IndexError, TypeError):
        return 400, b'{"object":"error","message":"bad request","type":"invalid_request_error"}'
    tools = request.get("tools")
    if last_role == "user" and tools:
        name = tools[0]["function"]["name"]
        cached = _cache.get(name)
        if cached is None:
            cached = _cache[name] = fast_server._completion(fast_server._tool_call_message(name), "tool_calls")
        return 200, cached
    return 200, _TEXT


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = b""
    more = True
    while more:
        message = await receive()
        body += message.get("body", b"")
        more = message.get("more_body", False)
    if scope["path"].rstrip("/").endswith("/chat/completions"):
        status, payload = respond(body)
    else:
        status, payload = 404, b'{"object":"error","message":"not found","type":"not_found"}'
    await send({"type": "http.response.start", "status": status, "headers": _JSON})
    await send({"type": "http.response.body", "body": payload})


def main() -> None:
    import uvicorn

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(4096)  # connections queue from now on, before uvicorn accepts them
    config = uvicorn.Config(app, lifespan="off", log_level="warning", access_log=False, backlog=4096)
    sys.stdout.write(f"PORT {sock.getsockname()[1]}\n")
    sys.stdout.flush()
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
