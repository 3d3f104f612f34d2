"""The API reference is complete and readable, and the docs fit their column.

- every public name (``mistral_agents.__all__`` and each public subpackage's ``__all__``) has exactly one
  ``::: path`` entry under ``docs/reference/``, and no entry names a private object;
- no docstring of the package uses a Sphinx role (``:class:`X```): the docs speak Markdown, where links are
  ``[`X`][mistral_agents.x.X]``;
- the install section of ``docs/index.md`` lists every extra of ``pyproject.toml`` (and no other);
- code blocks in ``docs/`` are at most 88 columns wide, so they never scroll sideways in the content column.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from typing import Any

import pytest

import mistral_agents

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "reference"
PACKAGE = ROOT / "mistral_agents"
MAX_WIDTH = 88
_DIRECTIVE = re.compile(r"^::: ([\w.]+)\s*$", re.M)
_ROLE = re.compile(r":(?:class|meth|func|mod|attr|data|exc|obj|ref):`")
_FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<info>[^\n`]*)\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


def public_subpackages() -> list[str]:
    """``mistral_agents.testing``, ``.sessions``, ...: the packages (not modules) without a leading underscore."""
    return sorted(
        f"mistral_agents.{info.name}"
        for info in pkgutil.iter_modules([str(PACKAGE)])
        if info.ispkg and not info.name.startswith("_") and info.name != "demo"
    )


def public_names() -> dict[str, Any]:
    """Every public name, as ``{"mistral_agents.X": object}``; top-level re-exports and subpackage exports."""
    names: dict[str, Any] = {
        f"mistral_agents.{name}": getattr(mistral_agents, name)
        for name in mistral_agents.__all__
        if name != "__version__"
    }
    for package in public_subpackages():
        module = importlib.import_module(package)
        names.update({f"{package}.{name}": getattr(module, name) for name in module.__all__})
    return names


def directives() -> list[tuple[str, str]]:
    """``(page, path)`` for every ``::: path`` line of the reference pages."""
    return [
        (page.name, match[1])
        for page in sorted(REFERENCE.glob("*.md"))
        for match in _DIRECTIVE.finditer(page.read_text(encoding="utf-8"))
    ]


def resolve(path: str) -> Any:
    """The object a dotted path names, as mkdocstrings reads it: attributes, or a submodule when the attribute
    of that name (``mistral_agents.tools.tool``, a function) has no next part (``...tool.tool``).
    """
    parts = path.split(".")
    value: Any = importlib.import_module(parts[0])
    for index, part in enumerate(parts[1:], start=1):
        following = parts[index + 1] if index + 1 < len(parts) else None
        found = getattr(value, part, None)
        if found is None or (following is not None and not hasattr(found, following)):
            found = importlib.import_module(".".join(parts[: index + 1]))
        value = found
    return value


def test_every_public_name_is_in_the_reference_once() -> None:
    # A name is documented by an entry that ends with that name and is the same object (aliases count apart).
    documented: dict[tuple[str, int], list[str]] = {}
    for _, path in directives():
        documented.setdefault((path.rsplit(".", 1)[1], id(resolve(path))), []).append(path)
    missing = [name for name, value in public_names().items() if (name.rsplit(".", 1)[1], id(value)) not in documented]
    assert not missing, (
        "public names missing from the API reference; add a `::: <path>` line for each to a page of "
        f"docs/reference/ (and the page to mkdocs.yml's nav): {missing}"
    )
    twice = {paths[0]: paths for paths in documented.values() if len(paths) > 1}
    assert not twice, f"documented more than once: {twice}"


def test_the_reference_names_no_private_object() -> None:
    for page, path in directives():
        assert not any(part.startswith("_") for part in path.split(".")), f"{page}: {path} is a private path"
        value = resolve(path)
        name = getattr(value, "__name__", path.rsplit(".", 1)[1])
        assert not str(name).startswith("_"), f"{page}: {path} is a private object"


def test_the_completeness_check_notices_a_missing_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mistral_agents, "__all__", [*mistral_agents.__all__, "_undocumented_probe"])
    monkeypatch.setattr(mistral_agents, "_undocumented_probe", object(), raising=False)
    with pytest.raises(AssertionError, match="_undocumented_probe"):
        test_every_public_name_is_in_the_reference_once()


def _docstrings(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            docstring = ast.get_docstring(node, clean=False)
            if docstring:
                found.append((getattr(node, "lineno", 1), docstring))
    return found


def test_docstrings_use_markdown_not_sphinx_roles() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in sorted(PACKAGE.rglob("*.py"))
        for line, docstring in _docstrings(path)
        if _ROLE.search(docstring)
    ]
    assert not offenders, f"Sphinx roles render raw in the docs; write [`Name`][dotted.path] instead: {offenders}"


def wide_lines(text: str, limit: int = MAX_WIDTH) -> list[tuple[int, int]]:
    """``(line number, width)`` of each code-block line wider than ``limit`` (indentation of the fence removed)."""
    wide = []
    for match in _FENCE.finditer(text):
        first = text.count("\n", 0, match.start()) + 2
        for offset, line in enumerate(match["body"].splitlines()):
            width = len(line) - len(match["indent"]) if line.startswith(match["indent"]) else len(line)
            if width > limit:
                wide.append((first + offset, width))
    return wide


@pytest.mark.parametrize("page", sorted((ROOT / "docs").rglob("*.md")), ids=lambda p: str(p.relative_to(ROOT / "docs")))
def test_code_blocks_fit_the_content_column(page: Path) -> None:
    wide = wide_lines(page.read_text(encoding="utf-8"))
    assert not wide, f"{page.name}: code lines wider than {MAX_WIDTH} columns (line, width): {wide}"


def test_the_width_check_measures_inside_fences_only() -> None:
    text = (
        "x" * 200
        + "\n\n```python\n"
        + "y" * 88
        + "\n"
        + "z" * 89
        + "\n```\n\n    ```bash\n    "
        + "w" * 88
        + "\n    ```\n"
    )
    assert wide_lines(text) == [(5, 89)]


def test_the_install_section_lists_every_extra() -> None:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    declared = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
    for_users = declared - {"dev", "bench", "docs"}
    listed = set(re.findall(r"^\| `([\w-]+)` \|", (ROOT / "docs" / "index.md").read_text(), re.M))
    assert listed == for_users, (
        "docs/index.md's install table must list the user-facing extras of pyproject.toml: "
        f"missing {sorted(for_users - listed)}, not an extra {sorted(listed - for_users)}"
    )
