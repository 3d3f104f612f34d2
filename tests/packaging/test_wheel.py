"""Build the wheel, install it alone in a fresh venv, and run ``mistral-agents demo`` from there.

This is what a user gets from ``pip install mistral-agents``: the wheel's files (not this checkout) must be what is
imported, the console script must exist, and the demo must work with no key and no network.

Speed and offline-ness: the wheel is built with ``pip wheel . --no-deps`` (with ``--no-build-isolation`` when
hatchling is already importable); the venv is made ``--without-pip`` and the wheel installed into it by this
interpreter's pip (``pip --python``), with ``--no-deps``. The runtime dependencies (httpx, pydantic, ...) are
borrowed from this interpreter's site-packages through a ``.pth`` file, which comes *after* the venv's own
site-packages on ``sys.path`` — so ``mistral_agents`` can only come from the wheel (the development install is an
editable ``.pth`` that is not processed from a borrowed directory), and the test asserts it does.
"""

from __future__ import annotations

import importlib.util
import os
import site
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from mistral_agents import __version__

ROOT = Path(__file__).resolve().parents[2]


def _run(*argv: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"{argv} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    # Without hatchling at hand, pip builds in an isolated environment (as `pip install .` in CI does).
    no_isolation = ["--no-build-isolation"] if importlib.util.find_spec("hatchling") else []
    _run(sys.executable, "-m", "pip", "wheel", ".", "--no-deps", "-q", *no_isolation, "-w", out, cwd=ROOT)
    (built,) = out.glob("mistral_agents-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("venv") / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", home, cwd=home.parent)
    python = home / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q", wheel, cwd=home.parent)
    purelib = _run(python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))", cwd=home.parent)
    borrowed = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib"), *site.getsitepackages()}
    lines = [path for path in sorted(borrowed) if Path(path).is_dir()]
    (Path(purelib.stdout.strip()) / "_borrowed_dependencies.pth").write_text("\n".join(lines) + "\n")
    return home


def _clean_env() -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in ("MISTRAL_API_KEY", "PYTHONPATH")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def test_wheel_contents(wheel: Path) -> None:
    assert wheel.name == f"mistral_agents-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    dist_info = f"mistral_agents-{__version__}.dist-info"
    assert "mistral_agents/py.typed" in names
    assert "mistral_agents/cli.py" in names
    assert "mistral_agents/demo/policy.py" in names  # the demo's offline model ships with the library
    assert any(name.startswith(f"{dist_info}/licenses/LICENSE") for name in names)
    assert not [name for name in names if name.startswith(("tests/", "docs/", "examples/", "benchmarks/"))]
    metadata = zipfile.ZipFile(wheel).read(f"{dist_info}/METADATA").decode()
    assert f"Version: {__version__}" in metadata
    assert "License-Expression: Apache-2.0" in metadata
    assert "Classifier: Typing :: Typed" in metadata
    entry_points = zipfile.ZipFile(wheel).read(f"{dist_info}/entry_points.txt").decode()
    assert "mistral-agents = mistral_agents.cli:main" in entry_points


def test_installed_wheel_runs_the_demo(venv: Path) -> None:
    where = venv.parent  # not the checkout: its mistral_agents/ must not be importable from the working directory
    script = venv / ("Scripts/mistral-agents.exe" if os.name == "nt" else "bin/mistral-agents")
    demo = _run(script, "demo", cwd=where, env=_clean_env())
    assert "Payment-status support bot, on the offline model." in demo.stdout
    assert "Assistant: The status of transaction T1001 is Paid." in demo.stdout

    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    probe = _run(python, "-c", "import mistral_agents; print(mistral_agents.__file__, mistral_agents.__version__)",
                 cwd=where, env=_clean_env())  # fmt: skip
    file, version = probe.stdout.split()
    assert Path(file).resolve().is_relative_to(venv.resolve()), f"imported {file}, not the installed wheel"
    assert version == __version__
