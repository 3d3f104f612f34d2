"""Tool.validate: JSON from the model → the function's Python values, or an error the model can act on."""

import dataclasses
import datetime
import decimal
import enum
import json
import typing
import uuid
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field, TypeAdapter
from test_tools_schema_zoo import ZOO

from mistral_agents.tools import RunContext, Tool, ToolArgumentError, tool

# --- schema → synthesised valid arguments → validate → call ------------------------------------------

_FORMATS = {
    "date-time": "2024-05-17T10:30:00Z",
    "date": "2024-05-17",
    "time": "10:30:00",
    "duration": "PT1H",
    "uuid": "12345678-1234-5678-1234-567812345678",
    "path": "/tmp/report.txt",
}
_PATTERNS = {r"^\d{5}$": "75001", "^[A-Z]": "Paris"}


def synthesise(schema: dict[str, Any], defs: dict[str, Any], depth: int = 0) -> Any:
    """A value valid for ``schema`` (the subset of JSON Schema our tools emit)."""
    if "$ref" in schema:
        return synthesise(defs[schema["$ref"].rsplit("/", 1)[-1]], defs, depth + 1)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][-1]
    if "anyOf" in schema:
        return synthesise(schema["anyOf"][0], defs, depth)
    kind = schema.get("type")
    if kind == "string":
        if "format" in schema:
            return _FORMATS[schema["format"]]
        if "pattern" in schema:
            return _PATTERNS[schema["pattern"]]
        return "text"
    if kind == "integer":
        return schema.get("minimum", 7)
    if kind == "number":
        return 0.5 if "exclusiveMinimum" in schema else 2.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        if "prefixItems" in schema:
            return [synthesise(s, defs, depth) for s in schema["prefixItems"]]
        if depth > 2:
            return []
        count = 1 if schema.get("uniqueItems") else schema.get("minItems", 2)
        return [synthesise(schema["items"], defs, depth + 1) for _ in range(count)]
    if kind == "object":
        if "properties" in schema:
            return {k: synthesise(v, defs, depth + 1) for k, v in schema["properties"].items()}
        values = schema.get("additionalProperties")
        return {"key": synthesise(values, defs, depth + 1)} if isinstance(values, dict) else {"key": 1}
    return {"any": ["json"]}


def python_hints(t: Tool[..., Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(t.function)
    hints.pop("return", None)
    return hints


@pytest.mark.parametrize(("name", "t"), [(name, t) for name, t, *_ in ZOO], ids=[name for name, *_ in ZOO])
def test_round_trip(name: str, t: Tool[..., Any]) -> None:
    arguments = synthesise(t.parameters, t.parameters.get("$defs", {}))
    jsonschema.validate(arguments, t.parameters)  # the synthesised arguments are valid for the schema we send
    values = t.validate(json.dumps(arguments))
    hints = python_hints(t)
    for param, value in values.items():
        annotation = hints[param]
        # strict=True accepts only values already of the declared Python type (no str → date, dict → model...)
        TypeAdapter(annotation).validate_python(value, strict=True)
    t.call(values, RunContext(deps={}))


# --- conversions --------------------------------------------------------------------------------------


class Unit(enum.Enum):
    CELSIUS = "celsius"
    FAHRENHEIT = "fahrenheit"


class Location(BaseModel):
    city: str
    country: str = "FR"


@dataclasses.dataclass
class Window:
    start: datetime.date
    end: datetime.date


@tool
def forecast(
    where: Location,
    window: Window,
    unit: Unit,
    day: datetime.date,
    pair: tuple[int, str],
    tags: set[str],
    price: decimal.Decimal,
    ref: uuid.UUID,
    /,
) -> dict[str, Any]:
    return {"where": where, "window": window, "unit": unit, "day": day, "pair": pair, "tags": tags}


def test_values_arrive_as_the_declared_python_types() -> None:
    values = forecast.validate(
        '{"where": {"city": "Paris"}, "window": {"start": "2024-01-01", "end": "2024-01-03"}, "unit": "celsius",'
        ' "day": "2024-05-17", "pair": [1, "a"], "tags": ["x", "x", "y"], "price": "12.50",'
        ' "ref": "12345678-1234-5678-1234-567812345678"}'
    )
    assert values == {
        "where": Location(city="Paris", country="FR"),
        "window": Window(datetime.date(2024, 1, 1), datetime.date(2024, 1, 3)),
        "unit": Unit.CELSIUS,
        "day": datetime.date(2024, 5, 17),
        "pair": (1, "a"),
        "tags": {"x", "y"},
        "price": decimal.Decimal("12.50"),
        "ref": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    }
    assert forecast.call(values)["where"] is values["where"]  # positional-only parameters are passed positionally


def test_a_dict_is_accepted_as_well_as_json_text() -> None:
    assert (
        forecast.validate(
            {
                "where": {"city": "Lyon", "country": "FR"},
                "window": {"start": "2024-01-01", "end": "2024-01-02"},
                "unit": "fahrenheit",
                "day": "2024-05-17",
                "pair": [2, "b"],
                "tags": [],
                "price": 1,
                "ref": "12345678123456781234567812345678",
            }
        )["unit"]
        is Unit.FAHRENHEIT
    )


@tool
def get_weather(city: str, days: int = 1) -> str:
    """Get the weather.

    Args:
        city: The city.
        days: How many days.
    """
    return f"{city}:{days}"


def test_defaults_are_filled_in() -> None:
    assert get_weather.validate('{"city": "Paris"}') == {"city": "Paris", "days": 1}


def test_numeric_strings_are_accepted_like_pydantic_does() -> None:
    assert get_weather.validate('{"city": "Paris", "days": "3"}') == {"city": "Paris", "days": 3}


@tool
def ping() -> str:
    return "pong"


@pytest.mark.parametrize("empty", [None, "", "   ", "null", "{}", {}])
def test_empty_arguments_mean_no_arguments(empty: Any) -> None:
    assert ping.validate(empty) == {}


# --- error messages -----------------------------------------------------------------------------------


def error_of(t: Tool[..., Any], arguments: Any) -> ToolArgumentError:
    with pytest.raises(ToolArgumentError) as info:
        t.validate(arguments)
    return info.value


def test_each_bad_field_is_named() -> None:
    error = error_of(get_weather, '{"days": "three"}')
    assert str(error) == (
        "Invalid arguments for tool 'get_weather': 'city': Field required; "
        "'days': Input should be a valid integer, unable to parse string as an integer (got 'three')"
    )
    assert error.tool_name == "get_weather"
    assert error.errors == (
        "'city': Field required",
        "'days': Input should be a valid integer, unable to parse string as an integer (got 'three')",
    )
    assert isinstance(error, ValueError)


def test_missing_arguments_are_reported_for_empty_input() -> None:
    assert str(error_of(get_weather, "")) == "Invalid arguments for tool 'get_weather': 'city': Field required"


def test_unknown_arguments_are_rejected_by_name() -> None:
    error = error_of(get_weather, '{"city": "Paris", "country": "FR"}')
    assert str(error) == (
        "Invalid arguments for tool 'get_weather': 'country': unknown argument (this tool takes: city, days)"
    )
    assert str(error_of(ping, '{"x": 1}')) == (
        "Invalid arguments for tool 'ping': 'x': unknown argument (this tool takes no arguments)"
    )


def test_invalid_json() -> None:
    assert str(error_of(get_weather, '{"city": "Paris"')) == (
        "Invalid arguments for tool 'get_weather': the arguments are not valid JSON "
        "(EOF while parsing an object at line 1 column 16); send a JSON object"
    )


@pytest.mark.parametrize(
    ("payload", "kind"),
    [("[1, 2]", "an array"), ('"Paris"', "a string"), ("3", "a number"), ("true", "a boolean")],
)
def test_json_that_is_not_an_object(payload: str, kind: str) -> None:
    assert str(error_of(get_weather, payload)) == (
        f"Invalid arguments for tool 'get_weather': the arguments must be a JSON object, got {kind}"
    )


def test_python_values_that_are_not_mappings() -> None:
    assert "got an array" in str(error_of(get_weather, [1]))  # type: ignore[arg-type]


class Item(BaseModel):
    sku: str
    quantity: int = Field(ge=1)


@tool
def order(items: list[Item], unit: Unit) -> None:
    pass


def test_nested_errors_give_the_path() -> None:
    error = error_of(order, {"items": [{"sku": "A", "quantity": 1}, {"quantity": 0}], "unit": "kelvin"})
    assert error.errors == (
        "'items[1].sku': Field required",
        "'items[1].quantity': Input should be greater than or equal to 1 (got 0)",
        "'unit': Input should be 'celsius' or 'fahrenheit' (got 'kelvin')",
    )


def test_long_inputs_are_shortened_in_messages() -> None:
    error = error_of(get_weather, {"city": "Paris", "days": "x" * 500})
    assert error.errors[0].endswith("(got '" + "x" * 56 + "...)")  # 60 characters at most


def test_containers_are_described_not_dumped() -> None:
    assert error_of(get_weather, {"city": {"name": "Paris"}}).errors == (
        "'city': Input should be a valid string (got an object)",
    )


# --- strict mode: null stands for the default ---------------------------------------------------------


@tool(strict=True)
def search(query: str, limit: int = 10, language: str | None = None) -> None:
    pass


def test_strict_null_means_the_default() -> None:
    assert search.validate('{"query": "q", "limit": null, "language": null}') == {
        "query": "q",
        "limit": 10,
        "language": None,
    }
    assert search.validate('{"query": "q", "limit": 5, "language": "fr"}') == {
        "query": "q",
        "limit": 5,
        "language": "fr",
    }


def test_strict_required_params_still_reject_null() -> None:
    assert error_of(search, '{"query": null}').errors == ("'query': Input should be a valid string (got null)",)


# --- hypothesis: whatever the model sends, validate raises only ToolArgumentError ---------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=25,
)
TOOLS = [t for _, t, *_ in ZOO] + [forecast, order, search, get_weather]


def names_of(t: Tool[..., Any]) -> st.SearchStrategy[str]:
    return st.sampled_from([*t.parameters["properties"], "unknown"])


@st.composite
def payloads(draw: st.DrawFn) -> tuple[Tool[..., Any], Any]:
    t = draw(st.sampled_from(TOOLS))
    shape = draw(st.integers(0, 3))
    if shape == 0:
        return t, draw(st.text(max_size=40))
    if shape == 1:
        return t, json.dumps(draw(json_values))
    arguments = draw(st.dictionaries(names_of(t), json_values, max_size=6))
    return t, json.dumps(arguments) if shape == 2 else arguments


def check_only_argument_errors(t: Tool[..., Any], payload: Any) -> None:
    error: ToolArgumentError | None = None
    try:
        result = t.validate(payload)
    except ToolArgumentError as exc:
        error = exc
    if error is None:
        assert isinstance(result, dict)
    else:
        assert str(error).startswith(f"Invalid arguments for tool '{t.name}': ")


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(payloads())
def test_arbitrary_payloads_only_raise_tool_argument_error(case: tuple[Tool[..., Any], Any]) -> None:
    check_only_argument_errors(*case)


@pytest.mark.parametrize("depth", [100, 10_000])
def test_deep_nesting(depth: int) -> None:
    for t in TOOLS:
        check_only_argument_errors(t, "[" * depth + "]" * depth)
        check_only_argument_errors(t, '{"a": ' * depth + "1" + "}" * depth)
        for name in t.parameters["properties"]:
            check_only_argument_errors(t, '{"' + name + '": ' + "[" * depth + "]" * depth + "}")


@pytest.mark.parametrize("junk", [b"\xff\xfe", "\x00", "{'single': 'quotes'}", "NaN", "1e999999", "\ud800"])
def test_junk_text(junk: Any) -> None:
    for t in TOOLS:
        check_only_argument_errors(t, junk)
