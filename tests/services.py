"""PostgreSQL and Redis for the tests that need a real server (``.ci/services`` starts both on 127.0.0.1).

Locally, a test whose server is not reachable skips with a one-line reason. Under ``CI=true`` a missing server is a
failure, never a skip: CI starts them, so their absence is a broken CI, not an optional test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

POSTGRES_DSN = os.environ.get(
    "MISTRAL_AGENTS_TEST_POSTGRES_DSN", "postgresql://postgres:postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("MISTRAL_AGENTS_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(what: str, reason: str) -> None:
    """Skip (locally) or fail (under CI=true) a test whose server cannot be reached."""
    message = f"{what} not reachable ({reason}); start it with `bash .ci/services`"
    if in_ci():
        pytest.fail(f"{message} — under CI=true a missing service is a failure", pytrace=False)
    pytest.skip(message)


def _postgres_error() -> str | None:
    try:
        import psycopg
    except ImportError:
        return "psycopg is not installed: pip install -e '.[dev]'"
    try:
        with psycopg.connect(POSTGRES_DSN, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as error:
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return None


def _redis_error() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis is not installed: pip install -e '.[dev]'"
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
        client.ping()
        client.close()
    except Exception as error:
        return f"{type(error).__name__}: {error}"
    return None


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """The DSN of a reachable PostgreSQL server (its ``postgres`` database, shared: use unique names)."""
    error = _postgres_error()
    if error is not None:
        unavailable(f"PostgreSQL at {POSTGRES_DSN.split('@')[-1]}", error)
    return POSTGRES_DSN


@pytest.fixture
def postgres_database(postgres_dsn: str) -> Iterator[str]:
    """A fresh, empty database for one test (dropped afterwards): its DSN."""
    import psycopg

    name = f"ma_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = postgres_dsn.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The URL of a reachable Redis server (shared: use unique keys, e.g. a uuid in the session id)."""
    error = _redis_error()
    if error is not None:
        unavailable(f"Redis at {REDIS_URL}", error)
    return REDIS_URL
