"""Errors and warnings raised while defining and calling tools."""

from __future__ import annotations

from collections.abc import Sequence

__all__ = ["ToolArgumentError", "ToolDefinitionError", "ToolSchemaWarning"]


class ToolSchemaWarning(UserWarning):
    """A tool's docstring and signature disagree (a documented parameter is missing, or one is undocumented)."""


class ToolDefinitionError(ValueError):
    """A function cannot become a tool (bad name, ``*args``/``**kwargs``, unresolvable type hints...)."""


class ToolArgumentError(ValueError):
    """The arguments a model sent do not fit the tool; the message says what to fix, field by field.

    Tools may raise it themselves to report arguments that are well-typed but wrong (an unknown city, say):
    the registry sends it back to the model as an invalid-arguments error it can correct.
    """

    def __init__(self, message: str, *, tool_name: str | None = None, errors: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.tool_name = tool_name
        self.errors: tuple[str, ...] = tuple(errors)

    @property
    def detail(self) -> str:
        """The field-by-field part of the message (or the whole message when raised by a tool)."""
        return "; ".join(self.errors) if self.errors else str(self)
