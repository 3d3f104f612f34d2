"""The bytes an offline endpoint sends back, with the timing and faults both front doors must play."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["WireResponse", "json_response"]


@dataclass(frozen=True)
class WireResponse:
    """An HTTP response, I/O-free: the transport and the loopback server both play it as described."""

    status: int
    headers: tuple[tuple[str, str], ...]
    #: The body, in the pieces to send; a streamed response flushes each piece on its own.
    parts: tuple[bytes, ...] = ()
    streamed: bool = False
    #: Seconds before the status line; seconds between streamed pieces.
    delay: float = 0.0
    part_delay: float = 0.0
    #: Drop the connection instead of answering at all.
    disconnect: bool = False
    #: Drop the connection after the last piece instead of ending the body cleanly.
    abort: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def body(self) -> bytes:
        return b"".join(self.parts)


def json_response(status: int, body: Any, headers: tuple[tuple[str, str], ...] = ()) -> WireResponse:
    """A plain JSON response."""
    data = json.dumps(body, ensure_ascii=False).encode()
    return WireResponse(status, (("content-type", "application/json"), *headers), (data,))
