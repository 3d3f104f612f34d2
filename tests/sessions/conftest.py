"""Sessions tests: the ``h`` harness (sync and async runs) from the agent tests, and a store per backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from mistral_agents.sessions import SessionBase
from tests.agent.conftest import h

__all__ = ["h", "store"]


@pytest.fixture(params=["sqlite", "postgres", "redis"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A store URL for each backend (the Postgres and Redis ones skip locally when their server is down)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sessions.db'}"
    elif request.param == "postgres":
        yield request.getfixturevalue("postgres_database")
    else:
        yield request.getfixturevalue("redis_url")


#: Redis keys of this test process (session ids are unique too; shared servers are never flushed).
REDIS_PREFIX = f"ma-test:{uuid.uuid4().hex[:8]}:"


def new_id() -> str:
    return f"test-{uuid.uuid4().hex}"


def make(url: str, session_id: str | None = None, **options: object) -> SessionBase:
    from mistral_agents.sessions import open_session

    if url.startswith("redis"):
        options.setdefault("prefix", REDIS_PREFIX)
    return open_session(url, session_id or new_id(), **options)
