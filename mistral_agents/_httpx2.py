"""The httpx2 transport of ``http_backend="httpx2"`` (extra ``httpx2``): httpx's maintained successor.

httpx2 keeps httpx's API under its own names, so the clients drive an ``httpx2.Client``/``AsyncClient`` exactly
as they drive httpx's; only the classes differ (its errors are not httpx's: `_errors.transport_errors` catches
both). Its pool is used as it is — httpcore2 dropped the quadratic idle-connection scan that `_pool` works around
(measured in ``benchmarks/httpx2_sweep.py``, docs/benchmarks.md). Imported only when that backend is chosen or a
caller-owned httpx2 client is passed: ``import mistral_agents`` never loads httpx2.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

try:
    import httpx2
except ImportError as error:  # pragma: no cover - exercised without the extra
    raise ImportError(
        'http_backend="httpx2" needs httpx2: pip install "mistral-agents[httpx2]"', name=error.name
    ) from error

__all__ = ["async_client", "sync_client", "timeout_of"]

#: Connections per owned pool, all kept alive when idle (as the httpx backend's pool).
MAX_CONNECTIONS = 100


def timeout_of(timeout: float | httpx.Timeout | httpx2.Timeout | None) -> httpx2.Timeout:
    """Our ``timeout=`` (seconds, an ``httpx.Timeout`` or an ``httpx2.Timeout``) as httpx2's."""
    if isinstance(timeout, httpx2.Timeout):
        return timeout
    if isinstance(timeout, httpx.Timeout):
        return httpx2.Timeout(connect=timeout.connect, read=timeout.read, write=timeout.write, pool=timeout.pool)
    return httpx2.Timeout(timeout)


def _limits() -> httpx2.Limits:
    return httpx2.Limits(max_connections=MAX_CONNECTIONS, max_keepalive_connections=MAX_CONNECTIONS)


def sync_client(headers: Mapping[str, str], timeout: Any, transport: Any = None) -> httpx2.Client:
    return httpx2.Client(transport=transport, timeout=timeout_of(timeout), headers=headers, limits=_limits())


def async_client(headers: Mapping[str, str], timeout: Any, transport: Any = None) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(transport=transport, timeout=timeout_of(timeout), headers=headers, limits=_limits())
