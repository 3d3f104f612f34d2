"""Mistakes made when defining things are reported at once, clearly, and where the user made them."""

from __future__ import annotations

import dataclasses
import warnings

import pytest
from pydantic import BaseModel

from mistral_agents import MistralAsyncClient, MistralClient
from mistral_agents.tools import ToolDefinitionError, ToolRegistry, ToolSchemaWarning, tool


@pytest.mark.parametrize("endpoint", ["localhost:8000", "127.0.0.1:8000", "api.mistral.ai", "ftp://x", "https://"])
@pytest.mark.parametrize("flavour", [MistralClient, MistralAsyncClient])
def test_an_endpoint_without_scheme_or_host_is_refused_at_construction(
    endpoint: str, flavour: type[MistralClient] | type[MistralAsyncClient]
) -> None:
    with pytest.raises(ValueError, match="endpoint must be an http:// or https:// URL"):
        flavour(api_key="k", endpoint=endpoint)


def test_the_error_suggests_the_scheme() -> None:
    with pytest.raises(ValueError, match=r"did you mean 'http://localhost:8000'"):
        MistralClient(endpoint="localhost:8000")


def untyped(x, y: int) -> int:  # type: ignore[no-untyped-def]
    return y


def documented_wrong(a: int) -> int:
    """Do it.

    Args:
        a: A.
        b: Not a parameter.
    """
    return a


def test_schema_warnings_point_at_the_users_function() -> None:
    for function in (untyped, documented_wrong):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            tool(function)
            ToolRegistry([function])  # another path into the same code: same location
        assert len(caught) == 2
        for warning in caught:
            assert issubclass(warning.category, ToolSchemaWarning)
            assert warning.filename == __file__
            assert warning.lineno == function.__code__.co_firstlineno


@dataclasses.dataclass
class Order:
    """An order."""

    title: str
    quantity: int = 1


class Invoice(BaseModel):
    number: str


class Plain:
    def __init__(self, title: str) -> None:
        self.title = title


@pytest.mark.parametrize("cls", [Order, Invoice, Plain])
def test_a_class_is_refused_as_a_tool_with_the_way_to_do_it(cls: type) -> None:
    with pytest.raises(ToolDefinitionError, match=rf"{cls.__name__} is a class.*def create\(order: {cls.__name__}\)"):
        tool(cls)
    with pytest.raises(ToolDefinitionError, match="is a class"):
        ToolRegistry([cls])


def test_a_dataclass_as_the_arguments_object_works() -> None:
    @tool
    def create(order: Order) -> str:
        """Create an order."""
        return f"{order.quantity} x {order.title}"

    assert create.parameters["properties"]["order"]["properties"]["title"] == {"type": "string"}
    assert create.call(create.validate({"order": {"title": "pen", "quantity": 2}})) == "2 x pen"
