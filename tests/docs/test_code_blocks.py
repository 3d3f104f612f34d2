"""Every ```python block of README.md and docs/*.md runs, against the offline model.

Each file's blocks run in order in one fresh namespace (a later block may use what an earlier one defined), so
a page reads like one session. During the run every ``MistralClient`` / ``MistralAsyncClient`` built without a
``transport`` or ``http_client`` gets the offline model's transport, and ``MISTRAL_API_KEY`` holds a dummy key:
``Agent(...)`` with its default client, ``MistralClient()``, ``MistralClient(endpoint="http://localhost:8000/v1")``
all talk to :class:`mistral_agents.testing.OfflineModel`, with no network. Blocks that use top-level ``await`` run
in an event loop.

A block that cannot run offline is preceded by a ``<!-- skip-test -->`` line (use sparingly).
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import re
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mistral_agents import MistralAsyncClient, MistralClient
from mistral_agents.testing import OfflineModel

ROOT = Path(__file__).resolve().parents[2]
FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP_MARKER = "<!-- skip-test -->"
#: Pages owned by others whose blocks are fragments that don't run yet: how many of their blocks fail. The test
#: runs them all and fails if the count changes (fixed: lower it; newly broken: fix the page).
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


@dataclass(frozen=True)
class Block:
    path: Path
    line: int
    code: str
    skipped: bool


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, with their line numbers and skip markers."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in _FENCE.finditer(text):
        if match["info"].strip().split(" ")[0] not in ("python", "py"):
            continue
        before = text[: match.start()].rstrip("\n").splitlines()
        previous = next((line.strip() for line in reversed(before) if line.strip()), "")
        code = _dedent(match["body"], match["indent"])
        blocks.append(Block(path, text.count("\n", 0, match.start()) + 1, code, previous == SKIP_MARKER))
    return blocks


def _dedent(body: str, indent: str) -> str:
    if not indent:
        return body
    return "".join(line[len(indent) :] if line.startswith(indent) else line for line in body.splitlines(True))


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch) -> OfflineModel:
    """Clients built without a transport talk to one offline model; a dummy key satisfies the official endpoint."""
    model = OfflineModel()
    monkeypatch.setenv("MISTRAL_API_KEY", "docs-offline-key")
    for cls in (MistralClient, MistralAsyncClient):
        original = cls.__init__

        def patched(self: Any, *args: Any, __original: Any = original, **kwargs: Any) -> None:
            if kwargs.get("transport") is None and kwargs.get("http_client") is None:
                kwargs["transport"] = model.transport()
            __original(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", patched)
    return model


def _run_block(block: Block, namespace: dict[str, Any]) -> None:
    source = f"{block.path.relative_to(ROOT)}:{block.line}"
    flags = ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
    code = compile(block.code, source, "exec", flags=flags, dont_inherit=True)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


@pytest.mark.parametrize("path", FILES, ids=[str(path.relative_to(ROOT)) for path in FILES])
def test_code_blocks_run(path: Path, offline: OfflineModel, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocks = [block for block in python_blocks(path) if not block.skipped]
    if not blocks:
        pytest.skip(f"{path.name} has no runnable python blocks")
    monkeypatch.chdir(tmp_path)  # examples that write files write them here
    module = types.ModuleType(f"docs_{path.stem.replace('-', '_')}")  # a real module: dataclasses look it up
    monkeypatch.setitem(sys.modules, module.__name__, module)
    name = str(path.relative_to(ROOT))
    failures = []
    for block in blocks:
        try:
            _run_block(block, module.__dict__)
        except Exception as error:
            failures.append(f"{name}, block at line {block.line}: {type(error).__name__}: {error}")
    assert offline.rejections == [], "the docs sent a request the hosted API would reject"
    assert not failures, "\n".join(failures)


def test_the_extractor_sees_markers_and_indented_blocks(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    page.write_text(
        "# Page\n\n```python\nx = 1\n```\n\n<!-- skip-test -->\n```python\nimport real_network\n```\n\n"
        "- item\n\n    ```python\n    y = x + 1\n    ```\n\n```bash\nls\n```\n"
    )
    blocks = python_blocks(page)
    assert [(b.line, b.code, b.skipped) for b in blocks] == [
        (3, "x = 1\n", False),
        (8, "import real_network\n", True),
        (14, "y = x + 1\n", False),
    ]
