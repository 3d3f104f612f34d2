"""Shared fixtures. No test reaches the internet: servers are in-process transports or loopback HTTP."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mistral_agents.testing._judge import ENV as JUDGE_ENV
from tests.services import postgres_database, postgres_dsn, redis_url

__all__ = ["postgres_database", "postgres_dsn", "redis_url"]


@pytest.fixture(autouse=True)
def _no_real_api_key(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    """Tests never pick up a developer's real key, except those marked ``live``."""
    if request.node.get_closest_marker("live") is None:
        monkeypatch.delenv("MISTRAL_API_KEY", raising=False)


@pytest.fixture(scope="session")
def _judge_log(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Where the second judge writes disagreements; named in the environment, so subprocesses judge too."""
    path = tmp_path_factory.mktemp("judge") / "disagreements.jsonl"
    path.touch()
    previous = os.environ.get(JUDGE_ENV)
    os.environ[JUDGE_ENV] = str(path)
    yield path
    if previous is None:
        os.environ.pop(JUDGE_ENV, None)
    else:
        os.environ[JUDGE_ENV] = previous


@pytest.fixture(autouse=True)
def _mistral_common_judges(_judge_log: Path) -> Iterator[None]:
    """Every chat request a test sends to an offline model (transport or loopback server, in this process or a
    subprocess) is also validated by mistral-common's request validator (serving mode); a disagreement with our
    rules that ``mistral_agents/testing/_rules.py`` does not record as deliberate fails the test."""
    start = _judge_log.stat().st_size
    yield
    with _judge_log.open(encoding="utf-8") as log:
        log.seek(start)
        disagreements = log.read()
    if disagreements:
        pytest.fail(f"our request rules and mistral-common's disagree:\n{disagreements[:4000]}", pytrace=False)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("MISTRAL_API_KEY"):
        return
    skip = pytest.mark.skip(reason="needs MISTRAL_API_KEY (talks to the real Mistral API)")
    for item in items:
        if item.get_closest_marker("live"):
            item.add_marker(skip)
