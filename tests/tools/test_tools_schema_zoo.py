"""A zoo of tool signatures, each with the exact JSON Schema the model is sent."""

import dataclasses
import datetime
import decimal
import enum
import pathlib
import sys
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Optional, Union

import pytest
from jsonschema import Draft7Validator, Draft202012Validator
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, TypedDict

from mistral_agents.tools import RunContext, Tool, tool

ZOO: list[tuple[str, Tool[..., Any], dict[str, Any], str]] = []


def case(expected: dict[str, Any], description: str = "", /, **options: Any) -> Callable[[Any], Any]:
    """Register ``func`` as a tool with ``options`` and the exact ``parameters`` schema it must produce."""

    def register(func: Callable[..., Any]) -> Callable[..., Any]:
        ZOO.append((func.__name__, tool(**options)(func), expected, description))
        return func

    return register


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required is not None:
        schema["required"] = required
    schema.update(extra)
    return schema


# --- the seed ------------------------------------------------------------------------------------------


@case(
    obj({"transaction_id": {"type": "string", "description": "The transaction id."}}, ["transaction_id"]),
    "Get payment status of a transaction id",
)
def retrieve_payment_status(transaction_id: str) -> str:
    """Get payment status of a transaction id

    Args:
        transaction_id: The transaction id.
    """
    return transaction_id


@case(
    obj({"transaction_id": {"type": "string", "description": "The transaction id."}}, ["transaction_id"]),
    "Get payment date of a transaction id",
)
def retrieve_payment_date(transaction_id: str) -> str:
    """Get payment date of a transaction id

    Args:
        transaction_id: The transaction id.
    """
    return transaction_id


# --- scalars, None, optional, unions, literals ---------------------------------------------------------


@case(
    obj(
        {"s": {"type": "string"}, "i": {"type": "integer"}, "f": {"type": "number"}, "b": {"type": "boolean"}},
        ["s", "i", "f", "b"],
    )
)
def scalars(s: str, i: int, f: float, b: bool) -> None:
    pass


@case(obj({"nothing": {"type": "null"}}, ["nothing"]))
def none_param(nothing: None) -> None:
    pass


@case(obj({"limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]}}, ["limit"]))
def optional_without_default(limit: Optional[int]) -> None:  # noqa: UP045 - the typing spelling is tested
    pass


@case(obj({"limit": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}}))
def optional_pep604_default(limit: int | None = None) -> None:
    pass


@case(obj({"key": {"anyOf": [{"type": "integer"}, {"type": "string"}]}}, ["key"]))
def union_param(key: Union[int, str]) -> None:  # noqa: UP007
    pass


@case(
    obj(
        {
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"},
            "level": {"type": "integer", "enum": [1, 2, 3]},
            "mode": {"type": "string", "const": "fast"},
        },
        ["level", "mode"],
    )
)
def literals(
    level: Literal[1, 2, 3], mode: Literal["fast"], unit: Literal["celsius", "fahrenheit"] = "celsius"
) -> None:
    pass


# --- enums -------------------------------------------------------------------------------------------


class Color(enum.Enum):
    """A primary colour."""

    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@case(
    obj({"color": {"type": "string", "enum": ["red", "green", "blue"], "description": "A primary colour."}}, ["color"])
)
def enum_with_docstring(color: Color) -> None:
    pass


@case(
    obj(
        {
            "color": {
                "type": "string",
                "enum": ["red", "green", "blue"],
                "description": "The paint colour.\n\nA primary colour.",
                "default": "green",
            }
        }
    ),
    "Paint.",
)
def enum_param_documented_with_default(color: Color = Color.GREEN) -> None:
    """Paint.

    Args:
        color: The paint colour.
    """


@case(obj({"priority": {"type": "integer", "enum": [1, 2]}}, ["priority"]))
def int_enum(priority: Priority) -> None:
    pass


if sys.version_info >= (3, 11):

    class Size(enum.StrEnum):
        """T-shirt size."""

        S = "s"
        M = "m"

    @case(obj({"size": {"type": "string", "enum": ["s", "m"], "description": "T-shirt size."}}, ["size"]))
    def str_enum(size: Size) -> None:
        pass


# --- containers --------------------------------------------------------------------------------------


@case(obj({"ids": {"type": "array", "items": {"type": "integer"}}}, ["ids"]))
def list_param(ids: list[int]) -> None:
    pass


@case(
    obj(
        {
            "pair": {
                "type": "array",
                "prefixItems": [{"type": "integer"}, {"type": "string"}],
                "minItems": 2,
                "maxItems": 2,
            }
        },
        ["pair"],
    )
)
def fixed_tuple(pair: tuple[int, str]) -> None:
    pass


@case(obj({"values": {"type": "array", "items": {"type": "number"}}}, ["values"]))
def variadic_tuple(values: tuple[float, ...]) -> None:
    pass


@case(
    obj(
        {
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            "codes": {"type": "array", "items": {"type": "integer"}, "uniqueItems": True},
        },
        ["tags", "codes"],
    )
)
def sets(tags: set[str], codes: frozenset[int]) -> None:
    pass


@case(obj({"weights": {"type": "object", "additionalProperties": {"type": "number"}}}, ["weights"]))
def dict_param(weights: dict[str, float]) -> None:
    pass


@case(
    obj(
        {
            "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
            "index": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
        ["matrix", "index"],
    )
)
def nested_containers(matrix: list[list[int]], index: dict[str, list[str]]) -> None:
    pass


# --- structured types --------------------------------------------------------------------------------


class Address(BaseModel):
    """A postal address."""

    street: str = Field(description="Street and number")
    city: str
    zip_code: str | None = Field(default=None, pattern=r"^\d{5}$")


ADDRESS = {
    "type": "object",
    "description": "A postal address.",
    "properties": {
        "street": {"type": "string", "description": "Street and number"},
        "city": {"type": "string"},
        "zip_code": {"anyOf": [{"type": "string", "pattern": r"^\d{5}$"}, {"type": "null"}], "default": None},
    },
    "required": ["street", "city"],
}


@case(obj({"address": ADDRESS}, ["address"]))
def nested_model(address: Address) -> None:
    pass


@case(
    obj(
        {
            "home": {**ADDRESS, "description": "Where the customer lives.\n\nA postal address."},
            "work": {"anyOf": [ADDRESS, {"type": "null"}], "default": None, "description": "Office address."},
        },
        ["home"],
    ),
    "Ship a parcel.",
)
def model_used_twice(home: Address, work: Address | None = None) -> None:
    """Ship a parcel.

    Args:
        home: Where the customer lives.
        work: Office address.
    """


class LineItem(BaseModel):
    sku: str
    quantity: int = Field(ge=1, le=100)


class Order(BaseModel):
    items: list[LineItem]
    shipping: Address


@case(
    obj(
        {
            "order": {
                "type": "object",
                "properties": {
                    "items": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "sku": {"type": "string"},
                                "quantity": {"type": "integer", "minimum": 1, "maximum": 100},
                            },
                            "required": ["sku", "quantity"],
                        },
                    },
                    "shipping": ADDRESS,
                },
                "required": ["items", "shipping"],
            }
        },
        ["order"],
    )
)
def deeply_nested_models(order: Order) -> None:
    pass


@dataclasses.dataclass
class Point:
    x: float
    y: float = 0.0


@case(
    obj(
        {
            "points": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "y": {"type": "number", "default": 0.0}},
                    "required": ["x"],
                },
            }
        },
        ["points"],
    )
)
def dataclass_param(points: list[Point]) -> None:
    pass


class Movie(TypedDict):
    """A film."""

    title: str
    year: NotRequired[int]


@case(
    obj(
        {
            "movie": {
                "type": "object",
                "description": "A film.",
                "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
                "required": ["title"],
            }
        },
        ["movie"],
    )
)
def typed_dict_param(movie: Movie) -> None:
    pass


class Category(BaseModel):
    """A category in a tree of categories."""

    name: str
    children: list["Category"] = []


CATEGORY_DEF = {
    "type": "object",
    "description": "A category in a tree of categories.",
    "properties": {
        "name": {"type": "string"},
        "children": {"type": "array", "items": {"$ref": "#/$defs/Category"}, "default": []},
    },
    "required": ["name"],
}


@case(obj({"root": {"$ref": "#/$defs/Category"}}, ["root"], **{"$defs": {"Category": CATEGORY_DEF}}))
def recursive_model(root: Category) -> None:
    pass


class Catalog(BaseModel):
    owner: Address
    categories: list[Category]


@case(
    obj(
        {
            "catalog": {
                "type": "object",
                "properties": {
                    "owner": ADDRESS,
                    "categories": {"type": "array", "items": {"$ref": "#/$defs/Category"}},
                },
                "required": ["owner", "categories"],
            }
        },
        ["catalog"],
        **{"$defs": {"Category": CATEGORY_DEF}},
    )
)
def recursive_inside_plain(catalog: Catalog) -> None:
    pass


# --- well-known string formats, Any ------------------------------------------------------------------


@case(
    obj(
        {
            "at": {"type": "string", "format": "date-time"},
            "day": {"type": "string", "format": "date"},
            "time_of_day": {"type": "string", "format": "time"},
            "duration": {"type": "string", "format": "duration"},
        },
        ["at", "day", "time_of_day", "duration"],
    )
)
def dates_and_times(
    at: datetime.datetime, day: datetime.date, time_of_day: datetime.time, duration: datetime.timedelta
) -> None:
    pass


@case(
    obj(
        {
            "request_id": {"type": "string", "format": "uuid"},
            "path": {"type": "string", "format": "path"},
            "amount": {"anyOf": [{"type": "number"}, {"type": "string"}]},
        },
        ["request_id", "path", "amount"],
    )
)
def uuid_path_decimal(request_id: uuid.UUID, path: pathlib.Path, amount: decimal.Decimal) -> None:
    pass


@case(
    obj(
        {"payload": {"description": "Anything JSON."}, "extra": {"default": None, "description": "Ignored."}},
        ["payload"],
    ),
    "Store a payload.",
)
def any_param(payload: Any, extra: Any = None) -> None:
    """Store a payload.

    Args:
        payload: Anything JSON.
        extra: Ignored.
    """


# --- Annotated / Field descriptions and constraints ----------------------------------------------------


@case(
    obj(
        {
            "days": {"type": "integer", "description": "Number of days", "minimum": 1, "maximum": 14, "default": 3},
            "city": {"type": "string", "description": "City name", "minLength": 2, "pattern": "^[A-Z]"},
        },
        ["city"],
    )
)
def annotated_fields(
    city: Annotated[str, Field(description="City name", min_length=2, pattern="^[A-Z]")],
    days: Annotated[int, Field(description="Number of days", ge=1, le=14)] = 3,
) -> None:
    pass


@case(
    obj(
        {
            "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
            "names": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        },
        ["ratio", "names"],
    )
)
def constraints_without_descriptions(
    ratio: Annotated[float, Field(gt=0, lt=1)], names: Annotated[list[str], Field(min_length=1, max_length=3)]
) -> None:
    pass


@case(obj({"limit": {"type": "integer", "description": "Max rows", "default": 10, "minimum": 0}}))
def field_as_default(limit: int = Field(10, description="Max rows", ge=0)) -> None:
    pass


@case(obj({"query": {"type": "string", "description": "Annotated wins"}}, ["query"]), "Search.")
def annotated_beats_docstring(query: Annotated[str, Field(description="Annotated wins")]) -> None:
    """Search.

    Args:
        query: The docstring text.
    """


# --- defaults ----------------------------------------------------------------------------------------


@case(
    obj(
        {
            "name": {"type": "string", "default": "world"},
            "times": {"type": "integer", "default": 1},
            "loud": {"type": "boolean", "default": False},
            "tags": {"type": "array", "items": {"type": "string"}, "default": ["a"]},
        }
    )
)
def defaults(name: str = "world", times: int = 1, loud: bool = False, tags: list[str] = ["a"]) -> None:  # noqa: B006
    pass


# --- docstring styles --------------------------------------------------------------------------------


@case(
    obj(
        {
            "city": {"type": "string", "description": "The city,\nfor example Paris."},
            "days": {"type": "integer", "description": "How many days.\nAt most 14.", "default": 1},
        },
        ["city"],
    ),
    "Get the weather forecast.\n\nUses the national weather service.\n\nResults are cached for an hour.",
)
def google_multi_paragraph(city: str, days: int = 1) -> None:
    """Get the weather forecast.

    Uses the national weather service.

    Results are cached for an hour.

    Args:
        city (str): The city,
            for example Paris.
        days: How many days.

            At most 14.

    Returns:
        The forecast.

    Raises:
        KeyError: Unknown city.
    """


@case(
    obj(
        {
            "a": {"type": "number", "description": "The first number."},
            "b": {"type": "number", "description": "The second number."},
        },
        ["a", "b"],
    ),
    "Add two numbers.",
)
def numpy_style(a: float, b: float) -> float:
    """Add two numbers.

    Parameters
    ----------
    a : float
        The first number.
    b : float
        The second number.

    Returns
    -------
    float
        The sum.
    """
    return a + b


@case(
    obj(
        {
            "user_id": {"type": "integer", "description": "The user's id."},
            "active": {"type": "boolean", "description": "Only active sessions.", "default": True},
        },
        ["user_id"],
    ),
    "List sessions.\n\nNewest first.",
)
def rest_style(user_id: int, active: bool = True) -> list[str]:
    """List sessions.

    Newest first.

    :param user_id: The user's id.
    :type user_id: int
    :param active: Only active sessions.
    :returns: Session ids.
    """
    return []


@case(
    obj(
        {
            "text": {"type": "string", "description": "Text to translate."},
            "lang": {"type": "string", "description": "Target language."},
        },
        ["text", "lang"],
    ),
    "Translate text.",
)
def epydoc_style(text: str, lang: str) -> str:
    """Translate text.

    @param text: Text to translate.
    @type text: str
    @param lang: Target language.
    @return: The translation.
    """
    return text


@case(obj({"x": {"type": "integer"}}, ["x"]), "Summary only, no sections.")
def summary_only(x: int) -> None:
    """Summary only, no sections."""


@case(obj({"x": {"type": "integer"}}, ["x"]))
def no_docstring(x: int) -> None:
    pass


@case(
    obj({"n": {"type": "integer", "description": "A number."}}, ["n"]),
    "Overridden description.",
    name="custom-name_2",
    description="Overridden description.",
)
def description_and_name_override(n: int) -> None:
    """Original.

    Args:
        n: A number.
    """


# --- context, parameter kinds, no parameters ---------------------------------------------------------


@case(obj({"query": {"type": "string", "description": "What to look for."}}, ["query"]), "Search the user's notes.")
def context_first(ctx: RunContext[dict[str, str]], query: str) -> None:
    """Search the user's notes.

    Args:
        query: What to look for.
    """


@case(obj({"a": {"type": "integer"}, "b": {"type": "integer", "default": 2}}, ["a"]))
def context_in_the_middle(a: int, ctx: RunContext, b: int = 2) -> None:  # type: ignore[type-arg]
    pass


@case(obj({"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean", "default": False}}, ["a", "b"]))
def parameter_kinds(a: int, /, b: str, *, c: bool = False) -> None:
    pass


@case(obj({}), "Take no arguments.")
def no_parameters() -> str:
    """Take no arguments."""
    return "ok"


# --- strict mode -------------------------------------------------------------------------------------


@case(
    obj(
        {
            "city": {"type": "string"},
            "days": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": 3},
            "unit": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        ["city", "days", "unit"],
        additionalProperties=False,
    ),
    strict=True,
)
def strict_optional_params(city: str, days: int = 3, unit: str | None = None) -> None:
    pass


@case(
    obj(
        {
            "address": {
                **ADDRESS,
                "required": ["street", "city", "zip_code"],
                "additionalProperties": False,
            },
            "weights": {"type": "object", "additionalProperties": {"type": "number"}},
            "movie": {
                "type": "object",
                "description": "A film.",
                "properties": {"title": {"type": "string"}, "year": {"type": "integer"}},
                "required": ["title", "year"],
                "additionalProperties": False,
            },
        },
        ["address", "weights", "movie"],
        additionalProperties=False,
    ),
    strict=True,
)
def strict_nested(address: Address, weights: dict[str, float], movie: Movie) -> None:
    pass


@case(
    obj(
        {"root": {"$ref": "#/$defs/Category"}},
        ["root"],
        additionalProperties=False,
        **{"$defs": {"Category": {**CATEGORY_DEF, "required": ["name", "children"], "additionalProperties": False}}},
    ),
    strict=True,
)
def strict_recursive(root: Category) -> None:
    pass


@case(obj({}, [], additionalProperties=False), strict=True)
def strict_no_parameters() -> None:
    pass


# --- the tests ---------------------------------------------------------------------------------------

IDS = [name for name, *_ in ZOO]


def test_the_zoo_is_big_enough() -> None:
    assert len(ZOO) >= 40


@pytest.mark.parametrize(("name", "t", "expected", "description"), ZOO, ids=IDS)
def test_exact_schema(name: str, t: Tool[..., Any], expected: dict[str, Any], description: str) -> None:
    assert t.parameters == expected
    assert t.description == description


@pytest.mark.parametrize(("name", "t", "expected", "description"), ZOO, ids=IDS)
def test_schema_is_valid_for_both_meta_schemas(
    name: str, t: Tool[..., Any], expected: dict[str, Any], description: str
) -> None:
    Draft7Validator.check_schema(t.parameters)
    Draft202012Validator.check_schema(t.parameters)


@pytest.mark.parametrize(("name", "t", "expected", "description"), ZOO, ids=IDS)
def test_spec_shape(name: str, t: Tool[..., Any], expected: dict[str, Any], description: str) -> None:
    function = {"name": t.name, "description": description, "parameters": expected}
    if t.strict:
        function["strict"] = True
    assert t.spec == {"type": "function", "function": function}


def test_seed_specs_are_exactly_the_seed_ones() -> None:
    for func, what in ((retrieve_payment_status, "status"), (retrieve_payment_date, "date")):
        assert tool(func).spec == {
            "type": "function",
            "function": {
                "name": func.__name__,
                "description": f"Get payment {what} of a transaction id",
                "parameters": {
                    "type": "object",
                    "properties": {"transaction_id": {"type": "string", "description": "The transaction id."}},
                    "required": ["transaction_id"],
                },
            },
        }


def test_no_title_anywhere() -> None:
    def titles(node: Any, in_properties: bool = False) -> int:
        if isinstance(node, dict):
            own = 0 if in_properties else int("title" in node)
            return own + sum(titles(v, k == "properties") for k, v in node.items())
        if isinstance(node, list):
            return sum(titles(v) for v in node)
        return 0

    for _, t, _, _ in ZOO:
        assert titles(t.parameters) == 0, t.name


def test_a_property_named_title_is_kept() -> None:
    @tool
    def book(title: str) -> None:
        pass

    assert book.parameters == obj({"title": {"type": "string"}}, ["title"])
