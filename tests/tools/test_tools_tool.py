"""The @tool decorator and Tool objects: definition rules, calling, warnings, result serialisation."""

import asyncio
import dataclasses
import datetime
import enum
import functools
import inspect
import uuid
from typing import Any

import pytest
from pydantic import BaseModel

from mistral_agents.tools import RunContext, Tool, ToolDefinitionError, ToolSchemaWarning, tool

# --- decorator forms and the wrapped function ----------------------------------------------------------


def add(a: int, b: int = 2) -> int:
    """Add two numbers.

    Args:
        a: First.
        b: Second.
    """
    return a + b


def test_bare_and_called_decorator_forms() -> None:
    bare = tool(add)
    called = tool()(add)
    configured = tool(name="adder", description="Adds.", strict=True, timeout=2, requires_approval=True)(add)
    assert isinstance(bare, Tool)
    assert (bare.name, bare.strict, bare.timeout, bare.requires_approval) == ("add", False, None, False)
    assert called.spec == bare.spec
    assert (configured.name, configured.description, configured.strict) == ("adder", "Adds.", True)
    assert configured.timeout == 2.0
    assert configured.requires_approval is True
    assert configured.spec["function"]["strict"] is True
    assert "strict" not in bare.spec["function"]
    assert bare.function is add


def test_a_tool_stays_callable_like_the_function() -> None:
    t = tool(add)
    assert t(1) == 3
    assert t(1, b=5) == 6
    assert t.__name__ == "add"
    assert t.__doc__ == add.__doc__
    assert t.__wrapped__ is add  # type: ignore[attr-defined]
    assert inspect.signature(t) == inspect.signature(add)


async def test_async_tools_return_coroutines_when_called() -> None:
    @tool
    async def fetch(url: str) -> str:
        await asyncio.sleep(0)
        return url.upper()

    assert fetch.is_async is True
    assert tool(add).is_async is False
    assert await fetch("x") == "X"
    assert await fetch.call({"url": "y"}) == "Y"


def test_partials_bound_methods_and_callable_objects() -> None:
    class Greeter:
        def __init__(self, greeting: str) -> None:
            self.greeting = greeting

        def greet(self, name: str) -> str:
            """Greet someone.

            Args:
                name: Who.
            """
            return f"{self.greeting}, {name}"

        def __call__(self, name: str) -> str:
            return self.greet(name)

    def scale(factor: int, value: float) -> float:
        return factor * value

    method = tool(Greeter("Hi").greet)
    assert method.parameters == {
        "type": "object",
        "properties": {"name": {"type": "string", "description": "Who."}},
        "required": ["name"],
    }
    assert method.call(method.validate('{"name": "Ann"}')) == "Hi, Ann"

    instance = tool(Greeter("Yo"), name="greeter")
    assert instance.call(instance.validate('{"name": "Bo"}')) == "Yo, Bo"

    double = tool(functools.partial(scale, 2), name="double")
    assert double.parameters == {
        "type": "object",
        "properties": {"value": {"type": "number"}},
        "required": ["value"],
    }
    assert double.call(double.validate('{"value": 1.5}')) == 3.0


async def test_async_partials_and_async_callables_are_async() -> None:
    async def work(n: int) -> int:
        return n

    class Worker:
        async def __call__(self, n: int) -> int:
            return n * 2

    assert tool(functools.partial(work), name="work").is_async
    w = tool(Worker(), name="worker")
    assert w.is_async
    assert await w.call({"n": 2}) == 4


def test_wrapping_a_tool_again_wraps_its_function() -> None:
    renamed = tool(name="plus")(tool(add))
    assert renamed.function is add
    assert renamed.name == "plus"


# --- definition errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["", "has space", "dot.ted", "x" * 65, "é"])
def test_bad_names_fail_at_decoration(name: str) -> None:
    with pytest.raises(ToolDefinitionError, match="invalid tool name"):
        tool(name=name)(add)


def test_lambdas_need_a_name() -> None:
    with pytest.raises(ToolDefinitionError, match=r"invalid tool name '<lambda>'.*name=\.\.\."):
        tool(lambda: None)
    assert tool(name="noop")(lambda: None).name == "noop"


def test_good_names() -> None:
    assert tool(name="a-b_C9" + "x" * 58)(add).name == "a-b_C9" + "x" * 58


def test_star_args_and_kwargs_are_rejected_with_a_hint() -> None:
    def variadic(*values: int) -> int:
        return sum(values)

    def options(**opts: str) -> None:
        pass

    with pytest.raises(ToolDefinitionError, match=r"\*values parameter.*'items: list\[T\]'"):
        tool(variadic)
    with pytest.raises(ToolDefinitionError, match=r"\*\*opts parameter.*'options: dict\[str, T\]'"):
        tool(options)


def test_definition_errors_are_value_errors() -> None:
    assert issubclass(ToolDefinitionError, ValueError)


@pytest.mark.parametrize("timeout", [0, -1, "5", True])
def test_bad_timeouts(timeout: Any) -> None:
    with pytest.raises(ToolDefinitionError, match="timeout"):
        tool(timeout=timeout)(add)


def test_not_callable() -> None:
    with pytest.raises(ToolDefinitionError, match="callable"):
        tool(42)  # type: ignore[call-overload]


def test_unresolvable_type_hints() -> None:
    def broken(x: "Missing") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    with pytest.raises(ToolDefinitionError, match=r"cannot resolve the type hints of tool 'broken'.*Missing"):
        tool(broken)


# --- docstring warnings -------------------------------------------------------------------------------


def test_a_documented_parameter_that_does_not_exist_is_named() -> None:
    def lookup(city: str) -> None:
        """Look up.

        Args:
            city: The city.
            contry: Typo.
        """

    with pytest.warns(ToolSchemaWarning, match="documents a parameter 'contry' that the function does not have"):
        t = tool(lookup)
    assert t.parameters["properties"] == {"city": {"type": "string", "description": "The city."}}


def test_an_undocumented_parameter_is_named_when_others_are_documented() -> None:
    def lookup(city: str, country: str) -> None:
        """Look up.

        :param city: The city.
        """

    with pytest.warns(ToolSchemaWarning, match="parameter 'country' is not documented"):
        tool(lookup)


def test_no_warning_without_a_parameter_section_or_with_field_descriptions() -> None:
    from typing import Annotated

    from pydantic import Field

    def summary_only(city: str) -> None:
        """Look up a city."""

    def described(city: str, country: Annotated[str, Field(description="ISO code")]) -> None:
        """Look up.

        Args:
            city: The city.
        """

    def context_undocumented(ctx: RunContext[None], city: str) -> None:
        """Look up.

        Args:
            city: The city.
        """

    for func in (summary_only, described, context_undocumented):
        tool(func)  # pytest turns any warning into an error


def test_unannotated_parameters_warn_and_accept_anything() -> None:
    def loose(x, y: int) -> None:  # type: ignore[no-untyped-def]
        pass

    with pytest.warns(ToolSchemaWarning, match="parameter 'x' has no type annotation"):
        t = tool(loose)
    assert t.parameters["properties"]["x"] == {}
    assert t.validate('{"x": [1, {"a": null}], "y": 1}') == {"x": [1, {"a": None}], "y": 1}


# --- context injection --------------------------------------------------------------------------------


@dataclasses.dataclass
class Deps:
    user: str


def test_context_is_injected_and_not_in_the_schema() -> None:
    seen: list[RunContext[Deps]] = []

    @tool
    def whoami(ctx: RunContext[Deps], greeting: str) -> str:
        seen.append(ctx)
        return f"{greeting}, {ctx.deps.user}"

    assert whoami.takes_context is True
    assert list(whoami.parameters["properties"]) == ["greeting"]
    ctx = RunContext(deps=Deps("ann"), step=2)
    assert whoami.call(whoami.validate('{"greeting": "hi"}'), ctx) == "hi, ann"
    assert seen == [ctx]
    assert "ctx" not in whoami.validate('{"greeting": "hi"}')
    assert tool(add).takes_context is False


def test_context_is_found_anywhere_and_keyword_only() -> None:
    @tool
    def late(a: int, *, context: RunContext) -> Any:  # type: ignore[type-arg]
        return (a, context.deps)

    assert late.call({"a": 1}, RunContext(deps="d")) == (1, "d")


def test_a_tool_needing_context_gets_an_empty_one_when_none_is_given() -> None:
    @tool
    def who(ctx: RunContext[None]) -> Any:
        return (ctx.deps, ctx.tool_name, ctx.step, ctx.messages)

    assert who.call({}) == (None, "who", 0, [])


# --- result serialisation ------------------------------------------------------------------------------


class Status(enum.Enum):
    PAID = "paid"


class Payment(BaseModel):
    id: str
    status: Status
    when: datetime.date


@dataclasses.dataclass
class Box:
    ids: set[int]
    ref: uuid.UUID


class Opaque:
    def __str__(self) -> str:
        return "<opaque>"


@pytest.mark.parametrize(
    ("value", "text"),
    [
        ("already text", "already text"),
        ("", ""),
        (None, "null"),
        (3, "3"),
        (True, "true"),
        ({"status": "Paid", "amount": 12.5}, '{"status":"Paid","amount":12.5}'),
        ([1, "é"], '[1,"é"]'),
        (
            Payment(id="T1", status=Status.PAID, when=datetime.date(2024, 3, 1)),
            '{"id":"T1","status":"paid","when":"2024-03-01"}',
        ),
        (
            Box({7}, uuid.UUID("12345678-1234-5678-1234-567812345678")),
            '{"ids":[7],"ref":"12345678-1234-5678-1234-567812345678"}',
        ),
        (datetime.datetime(2024, 1, 2, 3, 4, 5), '"2024-01-02T03:04:05"'),
        (Status.PAID, '"paid"'),
        (Opaque(), '"<opaque>"'),
    ],
)
def test_serialize_result(value: Any, text: str) -> None:
    assert Tool.serialize_result(value) == text


def test_parameter_names_that_clash_with_pydantic_are_fine() -> None:
    @tool
    def awkward(model_config: int, schema: str, _private: bool = False, validate: int = 1) -> Any:
        return (model_config, schema, _private, validate)

    assert awkward.parameters == {
        "type": "object",
        "properties": {
            "model_config": {"type": "integer"},
            "schema": {"type": "string"},
            "_private": {"type": "boolean", "default": False},
            "validate": {"type": "integer", "default": 1},
        },
        "required": ["model_config", "schema"],
    }
    values = awkward.validate('{"model_config": 1, "schema": "s", "_private": true}')
    assert awkward.call(values) == (1, "s", True, 1)
