"""Docstrings (Google, NumPy, reST/Sphinx, Epydoc) to a tool description and parameter descriptions."""

from __future__ import annotations

from dataclasses import dataclass, field

import docstring_parser

__all__ = ["DocInfo", "parse_docstring"]


@dataclass(frozen=True)
class DocInfo:
    """The parts of a docstring a tool spec uses."""

    description: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> DocInfo:
    """Split a docstring (style detected automatically) into summary + long description and parameter texts.

    Sections other than the parameters (``Returns``, ``Raises``, examples...) are left out of the description.
    """
    if not doc or not doc.strip():
        return DocInfo()
    try:
        parsed = docstring_parser.parse(doc)
    except docstring_parser.ParseError:
        return DocInfo(description=_clean(doc))
    parts = []
    if parsed.short_description:
        parts.append(parsed.short_description.strip())
    if parsed.long_description:
        joiner = "\n\n" if parsed.blank_after_short_description or not parts else "\n"
        parts.append(joiner + parsed.long_description.strip())
    description = "".join(parts).strip()
    params: dict[str, str] = {}
    for param in parsed.params:
        name = param.arg_name.lstrip("*")
        # NumPy style allows "x, y : int" for two parameters sharing a description.
        for one in (n.strip() for n in name.split(",")):
            if one and param.description:
                params[one] = param.description.strip()
            elif one:
                params.setdefault(one, "")
    return DocInfo(description=description, params=params)


def _clean(doc: str) -> str:
    import inspect

    return inspect.cleandoc(doc).strip()
