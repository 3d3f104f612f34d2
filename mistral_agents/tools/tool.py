"""The ``@tool`` decorator and the [`Tool`][mistral_agents.tools.Tool] it returns."""

from __future__ import annotations

import functools
import inspect
import math
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Generic, ParamSpec, TypeVar, overload

import pydantic_core

from ..models.chat_completion import TOOL_NAME_PATTERN
from ..models.common import UsageInfo
from ._schema import FuncSchema, function_schema, unwrap_partial
from .context import RunContext
from .errors import ToolDefinitionError

__all__ = ["Tool", "tool"]

P = ParamSpec("P")
R = TypeVar("R")


_CLASS_AS_TOOL = (
    "{name} is a class, and a tool must be a function (or a callable object): a class's signature and docstring "
    "do not describe arguments the model could send. To take a dataclass or pydantic model as the arguments "
    "object, write a function with it as a parameter, e.g. `@tool def create(order: {name}) -> ...`, or pass "
    "an instance whose class defines __call__."
)


class Tool(Generic[P, R]):
    """A function the model can call: its spec for the API, argument validation and calling.

    The tool stays callable exactly like the function it wraps (``tool(*args, **kwargs)``; an async function
    still returns a coroutine), and keeps its ``__name__``, ``__doc__`` and signature.

    A tool may come in both flavours: a sync ``function`` and an ``async_function`` twin taking the same
    parameters. An agent's sync run (``run``, ``run_stream``) calls ``function``; its async run (``arun``,
    ``arun_stream``, durable runs) awaits ``async_function``. ``agent.as_tool()`` is such a tool.
    """

    name: str
    description: str
    parameters: dict[str, Any]
    spec: dict[str, Any]
    function: Callable[P, R]
    strict: bool
    timeout: float | None
    requires_approval: bool
    takes_context: bool
    is_async: bool
    async_function: Callable[..., Awaitable[Any]] | None = None

    def __init__(
        self,
        function: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        strict: bool = False,
        timeout: float | None = None,
        requires_approval: bool = False,
        async_function: Callable[..., Awaitable[Any]] | None = None,
    ) -> None:
        if not callable(function):
            raise ToolDefinitionError(f"a tool must wrap a callable, got {type(function).__name__}")
        if isinstance(function, Tool):
            function = function.function
        inner, _ = unwrap_partial(function)
        if isinstance(inner, type):
            raise ToolDefinitionError(_CLASS_AS_TOOL.format(name=inner.__name__))
        tool_name = _default_name(function) if name is None else name
        if not isinstance(tool_name, str) or not TOOL_NAME_PATTERN.match(tool_name):
            raise ToolDefinitionError(
                f"invalid tool name {tool_name!r}: it must be 1 to 64 characters among a-z, A-Z, 0-9, '_' "
                "and '-' (pass name=... to @tool to choose another)"
            )
        if timeout is not None and (
            isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0
        ):
            raise ToolDefinitionError(f"tool '{tool_name}': timeout must be a positive number of seconds")
        if timeout is not None and math.isinf(timeout):
            timeout = None
        schema = function_schema(function, name=tool_name, description=description, strict=strict)
        functools.update_wrapper(self, function)
        self._schema: FuncSchema = schema
        self.function = function
        self.name = tool_name
        self.description = schema.description
        self.parameters = schema.parameters
        self.strict = strict
        self.timeout = None if timeout is None else float(timeout)
        self.requires_approval = requires_approval
        self.takes_context = schema.takes_context
        self.is_async = _is_async(function)
        if async_function is not None and (self.is_async or not _is_async(async_function)):
            raise ToolDefinitionError(
                f"tool '{tool_name}': async_function is the async twin of a sync function (a coroutine function "
                "with the same parameters)"
            )
        self.async_function = async_function
        function_spec: dict[str, Any] = {
            "name": tool_name,
            "description": schema.description,
            "parameters": schema.parameters,
        }
        if strict:
            function_spec["strict"] = True
        self.spec = {"type": "function", "function": function_spec}

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, strict={self.strict}, is_async={self.is_async})"

    def validate(self, arguments: str | bytes | Mapping[str, Any] | None) -> dict[str, Any]:
        """Parse and validate the model's arguments into the function's Python values, by parameter name.

        ``arguments`` is the JSON text the model sent (empty text, ``null`` and ``None`` mean no arguments) or
        an already decoded mapping. Nested models arrive as instances, enums as members, dates as dates;
        defaults are filled in. Anything invalid raises
        [`ToolArgumentError`][mistral_agents.tools.ToolArgumentError] naming each bad field.
        """
        data: Any
        if arguments is None:
            data = None
        elif isinstance(arguments, str | bytes | bytearray):
            if not arguments.strip():
                data = None
            else:
                try:
                    data = pydantic_core.from_json(arguments)
                except (ValueError, TypeError) as exc:  # TypeError: text that is not valid Unicode
                    detail = f"the arguments are not valid JSON ({exc}); send a JSON object"
                    raise self._schema.argument_error(detail) from None
        else:
            data = arguments
        return self._schema.validate(data)

    def call(self, arguments: Mapping[str, Any], ctx: RunContext[Any] | None = None) -> Any:
        """Call the function with validated ``arguments`` (from
        [`validate`][mistral_agents.tools.Tool.validate]), injecting ``ctx``.

        Returns what the function returns: an awaitable for an async tool. A tool that takes a context but gets
        none receives ``RunContext(deps=None)``.
        """
        args, kwargs = self._call_args(arguments, ctx)
        return self.function(*args, **kwargs)

    def call_async(self, arguments: Mapping[str, Any], ctx: RunContext[Any] | None = None) -> Any:
        """As [`call`][mistral_agents.tools.Tool.call], but the ``async_function`` twin when the tool has one."""
        if self.async_function is None:
            return self.call(arguments, ctx)
        args, kwargs = self._call_args(arguments, ctx)
        return self.async_function(*args, **kwargs)

    def _call_args(self, arguments: Mapping[str, Any], ctx: RunContext[Any] | None) -> tuple[list[Any], dict[str, Any]]:
        if ctx is None and self.takes_context:
            ctx = RunContext(deps=None, tool_name=self.name)
        return self._schema.to_call_args(arguments, ctx)

    def model_usage(self, result: Any, error: BaseException | None) -> UsageInfo | None:
        """What a call of this tool spent on model calls (None for plain tools; an agent called as a tool
        reports its run's usage, which the calling run adds to its own)."""
        return None

    @staticmethod
    def serialize_result(value: Any) -> str:
        """The text sent back to the model: ``str`` as is, anything else compact JSON (``None`` is ``null``).

        Pydantic models, dataclasses, dates, UUIDs, enums, sets... go through pydantic; objects pydantic cannot
        serialise fall back to ``str(value)``.
        """
        if isinstance(value, str):
            return value
        return pydantic_core.to_json(value, serialize_unknown=True).decode()


@overload
def tool(func: Callable[P, R], /) -> Tool[P, R]: ...


@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
    requires_approval: bool = False,
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...


def tool(
    func: Callable[P, R] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    strict: bool = False,
    timeout: float | None = None,
    requires_approval: bool = False,
) -> Tool[P, R] | Callable[[Callable[P, R]], Tool[P, R]]:
    """Turn a typed function into a [`Tool`][mistral_agents.tools.Tool].

    Use it as ``@tool`` or ``@tool(name=..., strict=True, ...)``. The parameters' type hints become the JSON
    schema the model sees; the docstring's summary and ``Args:`` section become its descriptions.

    Args:
        func: The function (when used as a bare ``@tool``).
        name: The name the model calls it by (default: the function's name).
        description: What the model reads (default: the docstring's summary and description).
        strict: Ask the API to hold the model to the schema exactly (``"strict": true``).
        timeout: Seconds the agent waits for the tool; only async tools can be cancelled.
        requires_approval: The agent asks its ``approver`` before running the tool.
    """

    def decorate(f: Callable[P, R]) -> Tool[P, R]:
        return Tool(
            f,
            name=name,
            description=description,
            strict=strict,
            timeout=timeout,
            requires_approval=requires_approval,
        )

    if func is None:
        return decorate
    return decorate(func)


def _default_name(func: Callable[..., Any]) -> str:
    target, _ = unwrap_partial(func)
    name = getattr(target, "__name__", None)
    return name if isinstance(name, str) else type(target).__name__


def _is_async(func: Callable[..., Any]) -> bool:
    target, _ = unwrap_partial(func)
    if inspect.iscoroutinefunction(target):
        return True
    if inspect.isroutine(target):
        return False
    return inspect.iscoroutinefunction(getattr(type(target), "__call__", None))  # noqa: B004
