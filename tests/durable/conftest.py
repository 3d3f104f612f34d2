"""In-process DBOS for the API tests: a fresh SQLite system database and a fresh registry per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dbos", reason='needs the dbos extra: pip install -e ".[dev]"')


@pytest.fixture
def dbos_config(tmp_path: Path) -> Iterator[dict[str, Any]]:
    """``DBOS(config=...)`` is up (not launched) on ``<tmp>/dbos.sqlite``; it is destroyed after the test."""
    from dbos import DBOS

    DBOS.destroy(destroy_registry=True)
    config: dict[str, Any] = {
        "name": "durable-tests",
        "system_database_url": f"sqlite:///{tmp_path / 'dbos.sqlite'}",
    }
    DBOS(config=config)  # type: ignore[arg-type]
    try:
        yield config
    finally:
        DBOS.destroy(destroy_registry=True)
