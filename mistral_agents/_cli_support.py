"""What the command line needs besides argument parsing: choosing a client, loading a tools module.

Kept apart from `cli` so that the command functions stay short, and shared with `demo` so that the
demo and ``chat`` pick their model the same way.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ._base_client import OFFLINE_ENDPOINT, offline_requested, offline_transport
from ._wire import is_official_endpoint
from .client import MistralClient
from .exceptions import MistralException
from .tools import Tool

if TYPE_CHECKING:
    from .testing import Policy

__all__ = ["OFFLINE_ENDPOINT", "ChosenClient", "CliError", "choose_client", "data_dir", "find_tools", "load_module"]


class CliError(Exception):
    """A problem the user can fix, reported as one line on stderr with exit status 2 (no traceback)."""


@dataclass
class ChosenClient:
    """A client and a few words saying where it talks to (``"the offline model"``, ``"the Mistral API"``, ...)."""

    client: MistralClient
    where: str
    offline: bool = False


def choose_client(
    endpoint: str | None = None,
    *,
    api_key: str | None = None,
    max_retries: int = 5,
    offline_policy: Policy | None = None,
) -> ChosenClient:
    """The client the command line uses.

    - ``endpoint`` given: that server (a local server needs no key; the official endpoint needs one);
    - else ``MISTRAL_API_KEY`` set (or ``api_key`` given), unless ``MISTRAL_AGENTS_OFFLINE=1``: the Mistral API;
    - else the built-in offline model (`mistral_agents.testing`), in-process, answering with
      ``offline_policy`` (default: the demo's).

    A missing key for the official endpoint, or an endpoint that is not a URL, is a `CliError`.
    """
    key = api_key if api_key is not None else os.environ.get("MISTRAL_API_KEY", "").strip() or None
    if endpoint and not key and is_official_endpoint(endpoint):
        raise CliError(
            f"no API key for {endpoint}: set MISTRAL_API_KEY (or leave out --endpoint to use the offline model)"
        )
    try:
        if endpoint:
            return ChosenClient(MistralClient(api_key=key, endpoint=endpoint, max_retries=max_retries), endpoint)
        if key and not offline_requested():
            return ChosenClient(MistralClient(api_key=key, max_retries=max_retries), "the Mistral API")
    except (MistralException, ValueError) as error:
        raise CliError(str(error)) from None
    transport = offline_transport(offline_policy)
    client = MistralClient(endpoint=OFFLINE_ENDPOINT, max_retries=max_retries, transport=transport)
    return ChosenClient(client, "the offline model", offline=True)


def load_module(target: str) -> ModuleType:
    """Import ``target``: a path to a ``.py`` file (or a package directory), or a dotted module name.

    A file is imported under its own name with its directory on ``sys.path``, so it can import its neighbours.
    Any failure (missing file, syntax error, an exception while importing) is a `CliError`.
    """
    path = Path(target)
    looks_like_path = target.endswith(".py") or os.sep in target or "/" in target or path.exists()
    try:
        if looks_like_path:
            return _load_path(path)
        return importlib.import_module(target)
    except CliError:
        raise
    except ModuleNotFoundError as error:
        raise CliError(f"cannot import {target!r}: {error} (give a path to a .py file or a module name)") from None
    except SyntaxError as error:
        where = f"{error.filename}, line {error.lineno}" if error.filename else target
        raise CliError(f"cannot import {target!r}: syntax error in {where}: {error.msg}") from None
    except Exception as error:
        raise CliError(f"cannot import {target!r}: {type(error).__name__}: {error}") from None


def _load_path(path: Path) -> ModuleType:
    if path.is_dir():
        init = path / "__init__.py"
        if not init.is_file():
            raise CliError(f"cannot import {str(path)!r}: a directory must be a package (with __init__.py)")
        path = init
    if not path.is_file():
        raise CliError(f"cannot import {str(path)!r}: no such file")
    path = path.resolve()
    package_dir = path.parent if path.name != "__init__.py" else path.parent.parent
    name = path.parent.name if path.name == "__init__.py" else path.stem
    existing = sys.modules.get(name)
    if existing is not None and getattr(existing, "__file__", None) != str(path):
        name = f"_mistral_agents_cli_{name}"  # never shadow an unrelated module (a user's json.py, ...)
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CliError(f"cannot import {str(path)!r}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    if str(package_dir) not in sys.path:
        sys.path.insert(0, str(package_dir))
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def find_tools(module: ModuleType) -> list[Tool[..., Any]]:
    """Every [`Tool`][mistral_agents.tools.Tool] at the module's top level, in definition order (each once)."""
    found: dict[int, Tool[..., Any]] = {}
    for value in vars(module).values():
        if isinstance(value, Tool) and id(value) not in found:
            found[id(value)] = value
    if not found:
        raise CliError(
            f"no tools found in {module.__name__!r}: decorate functions with @tool (from mistral_agents import tool)"
        )
    return list(found.values())


def data_dir() -> Path:
    """Where the command line keeps its history and sessions: ``$MISTRAL_AGENTS_HOME``, else
    ``$XDG_DATA_HOME/mistral-agents``, else ``~/.local/share/mistral-agents`` (created on first write).
    """
    home = os.environ.get("MISTRAL_AGENTS_HOME")
    if home:
        return Path(home).expanduser()
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".local" / "share"
    return base / "mistral-agents"
