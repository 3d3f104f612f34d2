"""Shared fixtures. No test reaches the internet: servers are in-process transports or loopback HTTP."""

from __future__ import annotations

import os

import pytest

from tests.services import postgres_database, postgres_dsn, redis_url

__all__ = ["postgres_database", "postgres_dsn", "redis_url"]


@pytest.fixture(autouse=True)
def _no_real_api_key(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Tests never pick up a developer's real key, except those marked ``live``."""
    if request.node.get_closest_marker("live") is None:
        monkeypatch.delenv("MISTRAL_API_KEY", raising=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MISTRAL_API_KEY"):
        return
    skip = pytest.mark.skip(reason="needs MISTRAL_API_KEY (talks to the real Mistral API)")
    for item in items:
        if item.get_closest_marker("live"):
            item.add_marker(skip)
