"""Every reliability test is bounded: a test that hangs dumps every thread's stack and ends the run.

No single test here should take more than a few seconds; the watchdog turns a would-be hang (the failure this
suite exists to rule out) into a loud failure instead of a CI job that never finishes.
"""

from __future__ import annotations

import faulthandler
import sys
from collections.abc import Iterator

import pytest

#: Seconds any one test may take before the watchdog fires.
WATCHDOG_SECONDS = 60


@pytest.fixture(autouse=True)
def _watchdog() -> Iterator[None]:
    faulthandler.dump_traceback_later(WATCHDOG_SECONDS, exit=True, file=sys.__stderr__)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()
