"""The ``h`` fixture: every agent test runs once synchronously and once asynchronously."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from .helpers import Harness


@pytest.fixture(params=["sync", "async"])
async def h(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    harness = Harness(request.param)
    try:
        yield harness
    finally:
        await harness.aclose()
