from __future__ import annotations

import pytest

from mistral_agents import RetryPolicy


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def no_wait(sleeps: list[float]) -> RetryPolicy:
    async def async_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    return RetryPolicy(sleep=sleeps.append, async_sleep=async_sleep)
