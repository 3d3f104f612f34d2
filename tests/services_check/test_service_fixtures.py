"""The PostgreSQL/Redis fixtures skip locally when no server answers, and fail under CI=true."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
def test_needs_postgres(postgres_dsn):
    pass

def test_needs_redis(redis_url):
    pass
"""


@pytest.mark.parametrize(("ci", "expected"), [("", "2 skipped"), ("true", "2 error")])
def test_unreachable_service_skips_locally_and_fails_in_ci(tmp_path: Path, ci: str, expected: str) -> None:
    probe = ROOT / "tests" / "services_check" / f"test_probe_{os.getpid()}_{ci or 'local'}.py"
    probe.write_text(PROBE)
    env = {
        **os.environ,
        "CI": ci,
        # Port 1 on loopback: nothing listens there.
        "MISTRAL_AGENTS_TEST_POSTGRES_DSN": "postgresql://postgres:postgres@127.0.0.1:1/postgres",
        "MISTRAL_AGENTS_TEST_REDIS_URL": "redis://127.0.0.1:1/0",
    }
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        probe.unlink()
    assert expected in done.stdout, done.stdout + done.stderr
    assert "not reachable" in done.stdout
    if ci:
        assert done.returncode != 0
