"""``open_session(url, session_id)``: a backend chosen by the URL's scheme."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ._base import SessionBase

__all__ = ["open_session"]

_SCHEMES = "sqlite:///path/to.db (or sqlite://:memory:), postgresql://..., redis://... (rediss://, unix://)"


def open_session(url: str, session_id: str, **options: Any) -> SessionBase:
    """The session ``session_id`` in the store at ``url``; ``options`` go to the backend's constructor.

    ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``sqlite://:memory:``; ``postgresql://`` or
    ``postgres://`` (extra ``postgres``); ``redis://``, ``rediss://``, ``unix://`` (extra ``redis``). Any other
    scheme is a ``ValueError`` naming the supported ones.
    """
    scheme = urlsplit(url).scheme.lower() if isinstance(url, str) else ""
    if scheme == "sqlite":
        from .sqlite import SQLiteSession

        path = url[len("sqlite://") :]
        path = path[1:] if path.startswith("/") else path
        return SQLiteSession(session_id, path or ":memory:", **options)
    if scheme in ("postgresql", "postgres"):
        from .postgres import PostgresSession

        return PostgresSession(session_id, url, **options)
    if scheme in ("redis", "rediss", "unix"):
        from .redis import RedisSession

        return RedisSession(session_id, url, **options)
    shown = f"{scheme}://" if scheme else repr(url)[:60]
    raise ValueError(f"unknown session store {shown}: use {_SCHEMES}")
