"""Tools known only at run time: the seam an MCP server (or any other remote catalogue) plugs into.

A `ToolSource` goes in ``Agent(tools=[...])`` beside ``@tool`` functions. The agent asks it for its tools
on first use and again before every model call; a source answers from its cache unless its list changed (an
MCP server's ``notifications/tools/list_changed``), so asking is cheap. `ToolSet` merges the fixed tools
with the sources' tools into the `ToolRegistry` a step uses, rebuilding it only when a source's list changed.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .errors import ToolDefinitionError
from .registry import ToolRegistry
from .tool import Tool

__all__ = ["ToolSet", "ToolSource"]


@runtime_checkable
class ToolSource(Protocol):
    """Something that lists tools at run time; the agent starts it on first use and closes it with itself.

    ``list_tools``/``alist_tools`` return the current tools. Return the *same* sequence object while nothing
    changed: the agent rebuilds its registry only when the object it gets back is a new one. ``close`` and
    ``aclose`` release what the source holds (a subprocess, a connection); using it again reopens it.
    """

    def list_tools(self) -> Sequence[Tool[..., Any]]: ...

    async def alist_tools(self) -> Sequence[Tool[..., Any]]: ...

    def close(self) -> None: ...

    async def aclose(self) -> None: ...


class ToolSet:
    """An agent's fixed tools plus its tool sources, as one registry per step."""

    def __init__(self, registry: ToolRegistry, sources: Sequence[ToolSource]) -> None:
        self.registry = registry
        self.sources = tuple(sources)
        self._lock = threading.Lock()
        self._listed: tuple[Sequence[Tool[..., Any]], ...] | None = None
        self._merged = registry

    def current(self) -> ToolRegistry:
        """The registry for the next step (sync runs): the sources listed, from their caches when unchanged."""
        if not self.sources:
            return self.registry
        return self._merge(tuple(source.list_tools() for source in self.sources))

    async def acurrent(self) -> ToolRegistry:
        """`current` for async runs."""
        if not self.sources:
            return self.registry
        return self._merge(tuple([await source.alist_tools() for source in self.sources]))

    def close(self) -> None:
        for source in self.sources:
            source.close()

    async def aclose(self) -> None:
        for source in self.sources:
            await source.aclose()

    def _merge(self, listed: tuple[Sequence[Tool[..., Any]], ...]) -> ToolRegistry:
        with self._lock:
            previous = self._listed
            if previous is not None and all(a is b for a, b in zip(previous, listed, strict=True)):
                return self._merged
            owners: dict[str, str] = {name: "a tool given to the agent" for name in self.registry}
            tools: list[Tool[..., Any]] = list(self.registry.values())
            for source, source_tools in zip(self.sources, listed, strict=True):
                for item in source_tools:
                    if item.name in owners:
                        raise ToolDefinitionError(
                            f"tool name {item.name!r} from {source!r} clashes with {owners[item.name]}; "
                            "tool names must be unique (give the server a prefix=..., or filter the tool out)"
                        )
                    owners[item.name] = repr(source)
                    tools.append(item)
            self._merged = ToolRegistry(tools, max_result_chars=self.registry.max_result_chars)
            self._listed = listed
            return self._merged
