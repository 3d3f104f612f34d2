"""`OfflineTransport`: the offline model as an httpx transport, sync and async in one class."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

from ._wire_response import WireResponse

if TYPE_CHECKING:
    from ._model import OfflineModel

__all__ = ["OfflineTransport"]

_CUT = "peer closed connection without sending complete message body (offline model: stream cut)"
_DISCONNECTED = "Server disconnected without sending a response. (offline model: disconnect)"


class _SyncParts(httpx.SyncByteStream):
    def __init__(self, wire: WireResponse) -> None:
        self._wire = wire

    def __iter__(self) -> Iterator[bytes]:
        for position, part in enumerate(self._wire.parts):
            if position and self._wire.part_delay:
                time.sleep(self._wire.part_delay)
            yield part
        if self._wire.abort:
            raise httpx.RemoteProtocolError(_CUT)


class _AsyncParts(httpx.AsyncByteStream):
    def __init__(self, wire: WireResponse) -> None:
        self._wire = wire

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for position, part in enumerate(self._wire.parts):
            if position and self._wire.part_delay:
                await asyncio.sleep(self._wire.part_delay)
            yield part
        if self._wire.abort:
            raise httpx.RemoteProtocolError(_CUT)


class OfflineTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Pass to ``httpx.Client(transport=...)`` or ``httpx.AsyncClient(transport=...)``; no socket involved."""

    def __init__(self, model: OfflineModel) -> None:
        self.model = model

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        wire = self.model.handle(request.method, _target(request), request.headers.multi_items(), request.read())
        if wire.delay:
            time.sleep(wire.delay)
        if wire.disconnect:
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
        return httpx.Response(wire.status, headers=list(wire.headers), stream=_SyncParts(wire))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        wire = self.model.handle(request.method, _target(request), request.headers.multi_items(), body)
        if wire.delay:
            await asyncio.sleep(wire.delay)
        if wire.disconnect:
            raise httpx.RemoteProtocolError(_DISCONNECTED, request=request)
        return httpx.Response(wire.status, headers=list(wire.headers), stream=_AsyncParts(wire))


def _target(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii", "replace")
