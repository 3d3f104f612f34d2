"""An incremental decoder for data-only server-sent events: bytes in, event payloads out.

Chunk boundaries may fall anywhere (inside a line, between ``\\r`` and ``\\n``, inside a UTF-8 sequence): the
decoder keeps the unfinished tail and yields each event's ``data`` once its terminating blank line arrives.
Comments (``:``), and the ``event``/``id``/``retry`` fields, are ignored: the Mistral API sends data only.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

from .exceptions import ResponseDecodeError

__all__ = ["SSEDecoder", "aiter_sse_data", "iter_sse_data"]


class SSEDecoder:
    """Feed it bytes as they arrive; it returns the ``data`` of every event completed so far."""

    __slots__ = ("_data", "_error", "_pending")

    def __init__(self) -> None:
        self._pending = b""
        self._data: list[bytes] = []
        self._error: ResponseDecodeError | None = None

    def feed(self, chunk: bytes) -> list[str]:
        self._raise_pending_error()
        data = self._pending + chunk if self._pending else chunk
        # A trailing "\r" may be the first half of "\r\n": hold it back until the next chunk.
        limit = len(data) - 1 if data.endswith(b"\r") else len(data)
        end = max(data.rfind(b"\n", 0, limit), data.rfind(b"\r", 0, limit))
        if end < 0:
            self._pending = data
            return []
        self._pending = data[end + 1 :]
        return self._lines(data[: end + 1].splitlines())

    def flush(self) -> list[str]:
        """End of the stream: finish a last line and event that had no terminator."""
        self._raise_pending_error()
        lines = self._pending.splitlines() if self._pending else []
        self._pending = b""
        return self._lines([*lines, b""])

    def _lines(self, lines: list[bytes]) -> list[str]:
        events: list[str] = []
        for line in lines:
            if not line:
                if self._data:
                    try:
                        events.append(_decode(b"\n".join(self._data)))
                    except ResponseDecodeError as error:
                        if not events:
                            raise
                        # The events before the bad one are delivered first; the error comes next time.
                        self._data, self._error = [], error
                        return events
                    self._data = []
            elif line.startswith(b"data:"):
                value = line[5:]
                self._data.append(value[1:] if value.startswith(b" ") else value)
            # Other fields (event, id, retry) and comments carry nothing for us.
        return events

    def _raise_pending_error(self) -> None:
        if self._error is not None:
            error, self._error = self._error, None
            raise error


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResponseDecodeError(f"the event stream is not valid UTF-8 (byte {exc.start} of an event)") from None


def iter_sse_data(chunks: Iterable[bytes]) -> Iterator[str]:
    """The data payload of every event in a byte stream."""
    decoder = SSEDecoder()
    for chunk in chunks:
        yield from decoder.feed(chunk)
    yield from decoder.flush()


async def aiter_sse_data(chunks: AsyncIterable[bytes]) -> AsyncIterator[str]:
    """The data payload of every event in an async byte stream."""
    decoder = SSEDecoder()
    async for chunk in chunks:
        for data in decoder.feed(chunk):
            yield data
    for data in decoder.flush():
        yield data
