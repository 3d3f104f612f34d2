"""A function signature (type hints + docstring) to a clean JSON Schema and a validator for its arguments."""

from __future__ import annotations

import copy
import dataclasses
import functools
import inspect
import sys
import typing
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic_core
from pydantic import BaseModel, Field, ValidationError, create_model
from pydantic.fields import FieldInfo

from ._docstrings import DocInfo, parse_docstring
from .context import RunContext
from .errors import ToolArgumentError, ToolDefinitionError, ToolSchemaWarning

__all__ = ["FuncSchema", "function_schema", "unwrap_partial"]

_EMPTY = inspect.Parameter.empty
_POSITIONAL_ONLY = inspect.Parameter.POSITIONAL_ONLY


@dataclass(frozen=True)
class _Param:
    name: str  # the Python parameter name
    field: str  # the field name in the arguments model
    alias: str  # the property name in the schema (what the model sends)
    kind: inspect._ParameterKind
    default: Any
    context: bool = False
    described: bool = False  # has a description of its own (Annotated/Field)


@dataclass(frozen=True)
class FuncSchema:
    """Everything known about a function's arguments, computed once at decoration time."""

    name: str
    description: str
    parameters: dict[str, Any]
    strict: bool
    model: type[BaseModel]
    params: tuple[_Param, ...]
    null_means_default: frozenset[str]

    @property
    def takes_context(self) -> bool:
        return any(p.context for p in self.params)

    def validate(self, data: Any) -> dict[str, Any]:
        """Validate decoded JSON arguments; return Python values by parameter name (defaults filled in)."""
        if data is None:
            data = {}
        if not isinstance(data, Mapping):
            raise self.argument_error(f"the arguments must be a JSON object, got {_kind_of(data)}")
        data = dict(data)
        known = {p.alias for p in self.params if not p.context}
        unknown = [str(k) for k in data if k not in known]
        errors = [f"'{k}': unknown argument ({self._takes()})" for k in unknown]
        for key in self.null_means_default:
            if key in data and data[key] is None:
                del data[key]  # strict mode: null stands for "use the default"
        try:
            instance = self.model.model_validate(data)
        except ValidationError as exc:
            errors.extend(_format_error(e) for e in exc.errors(include_url=False))
        if errors:
            raise self.argument_error("; ".join(errors), errors)
        return {p.name: getattr(instance, p.field) for p in self.params if not p.context}

    def to_call_args(self, values: Mapping[str, Any], ctx: Any = None) -> tuple[list[Any], dict[str, Any]]:
        """Turn validated values (by parameter name) into positional and keyword call arguments."""
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for p in self.params:
            if p.context:
                value = ctx
            elif p.name in values:
                value = values[p.name]
            elif p.kind is _POSITIONAL_ONLY and p.default is not _EMPTY:
                value = p.default.default if isinstance(p.default, FieldInfo) else p.default
            else:
                continue  # let Python report the missing argument
            if p.kind is _POSITIONAL_ONLY:
                args.append(value)
            else:
                kwargs[p.name] = value
        return args, kwargs

    def _takes(self) -> str:
        names = [p.alias for p in self.params if not p.context]
        return "this tool takes: " + ", ".join(names) if names else "this tool takes no arguments"

    def argument_error(self, detail: str, errors: list[str] | None = None) -> ToolArgumentError:
        return ToolArgumentError(
            f"Invalid arguments for tool '{self.name}': {detail}", tool_name=self.name, errors=errors or [detail]
        )


def function_schema(
    func: Callable[..., Any], *, name: str, description: str | None = None, strict: bool = False
) -> FuncSchema:
    """Build the `FuncSchema` of ``func``; warns (`ToolSchemaWarning`) on docstring mismatches."""
    target = _hint_target(func)
    _, bound = unwrap_partial(func)
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        raise ToolDefinitionError(f"cannot read the signature of tool '{name}': {exc}") from exc
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception as exc:
        raise ToolDefinitionError(
            f"cannot resolve the type hints of tool '{name}': {exc}. "
            "Types used in annotations must be importable from the function's module."
        ) from exc
    doc = parse_docstring(inspect.getdoc(target) if target is not None else None)

    params: list[_Param] = []
    fields: dict[str, Any] = {}
    for index, p in enumerate(signature.parameters.values()):
        if p.name in bound:
            # Bound by a functools.partial: the caller chose it. It is not the model's to see or to override
            # (it stays out of the schema, so sending it is an "unknown argument"); the partial supplies it.
            continue
        if p.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            star = "*" if p.kind is inspect.Parameter.VAR_POSITIONAL else "**"
            raise ToolDefinitionError(
                f"tool '{name}' has a {star}{p.name} parameter, which a JSON Schema cannot describe; "
                f"use a named parameter instead, e.g. 'items: list[T]' or 'options: dict[str, T]'"
            )
        annotation = hints.get(p.name, _EMPTY)
        if annotation is _EMPTY:
            annotation = Any
        if _is_context(annotation):
            params.append(_Param(p.name, "", "", p.kind, p.default, context=True))
            continue
        if p.name not in hints:
            _warn(target, f"tool '{name}': parameter '{p.name}' has no type annotation; the model may send any value")
        field_name = f"p{index}"
        field_info: dict[str, Any] = {"alias": p.name}
        doc_text = doc.params.get(p.name)
        described = _has_description(annotation, p.default)
        if doc_text and not described:
            field_info["description"] = doc_text
        default = ... if p.default is _EMPTY else p.default
        fields[field_name] = (Annotated[annotation, Field(**field_info)], default)
        params.append(_Param(p.name, field_name, p.name, p.kind, p.default, described=described))

    _check_docs(name, doc, params, bound, target)
    try:
        model: type[BaseModel] = create_model(f"{name}_arguments", **fields)
        raw = model.model_json_schema()
    except Exception as exc:
        raise ToolDefinitionError(f"cannot build a schema for tool '{name}': {exc}") from exc
    # Aliases from a user's own Field(alias=...) win: track the name the model actually sends.
    params = [p if p.context else _replace_alias(p, model.model_fields[p.field].alias or p.alias) for p in params]
    parameters, nullable_defaults = _clean_schema(raw, strict=strict)
    return FuncSchema(
        name=name,
        description=doc.description if description is None else description,
        parameters=parameters,
        strict=strict,
        model=model,
        params=tuple(params),
        null_means_default=frozenset(nullable_defaults),
    )


def _replace_alias(p: _Param, alias: str) -> _Param:
    return dataclasses.replace(p, alias=alias)


def unwrap_partial(func: Any) -> tuple[Any, frozenset[str]]:
    """The callable inside any ``functools.partial`` layers, and the names of the parameters they bind
    (by keyword, or positionally: the first parameters of the callable)."""
    bound: set[str] = set()
    positional = 0
    while isinstance(func, functools.partial):
        bound.update(func.keywords)
        positional += len(func.args)
        func = func.func
    if positional:
        try:
            parameters = list(inspect.signature(func).parameters.values())
        except (TypeError, ValueError):
            parameters = []
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        bound.update(p.name for p in parameters[:positional] if p.kind in kinds)
    return func, frozenset(bound)


def _hint_target(func: Callable[..., Any]) -> Any:
    """The object whose annotations and docstring describe ``func`` (unwrapping partials and callables)."""
    target, _ = unwrap_partial(func)
    if inspect.isfunction(target) or inspect.ismethod(target) or inspect.isbuiltin(target):
        return target
    return getattr(type(target), "__call__", None)  # noqa: B004 - a callable object: its __call__ method


def _is_context(annotation: Any) -> bool:
    if typing.get_origin(annotation) is Annotated:
        annotation = typing.get_args(annotation)[0]
    origin = typing.get_origin(annotation) or annotation
    return isinstance(origin, type) and issubclass(origin, RunContext)


def _has_description(annotation: Any, default: Any) -> bool:
    if isinstance(default, FieldInfo) and default.description:
        return True
    if typing.get_origin(annotation) is Annotated:
        return any(isinstance(m, FieldInfo) and m.description for m in typing.get_args(annotation)[1:])
    return False


def _check_docs(name: str, doc: DocInfo, params: list[_Param], bound: frozenset[str], target: Any) -> None:
    """Warn about documented parameters that don't exist, and undocumented ones when others are documented."""
    names = {p.name for p in params}
    for documented in doc.params:
        if documented not in names and documented not in bound:
            _warn(
                target,
                f"tool '{name}': the docstring documents a parameter '{documented}' that the function "
                f"does not have (parameters: {', '.join(sorted(names)) or 'none'})",
            )
    if not doc.params:
        return
    for p in params:
        if not p.context and not p.described and p.name not in doc.params:
            _warn(
                target,
                f"tool '{name}': parameter '{p.name}' is not documented in the docstring; "
                "the model will see it without a description",
            )


def _warn(target: Any, message: str) -> None:
    """A `ToolSchemaWarning` reported at the user's function (its ``def`` line), not inside this library."""
    function = inspect.unwrap(getattr(target, "__func__", target)) if target is not None else None
    code = getattr(function, "__code__", None)
    if code is None:  # no Python source (a builtin): the first caller outside this package
        warnings.warn(message, ToolSchemaWarning, stacklevel=_outside_stacklevel())
        return
    module = getattr(function, "__module__", None) or "<unknown>"
    module_globals = getattr(function, "__globals__", {})
    warnings.warn_explicit(
        message,
        ToolSchemaWarning,
        code.co_filename,
        code.co_firstlineno,
        module=module,
        registry=module_globals.setdefault("__warningregistry__", {}),
        module_globals=module_globals,
    )


def _outside_stacklevel() -> int:
    package = __name__.split(".", 1)[0]
    frame, level = sys._getframe(1), 1
    while frame is not None and frame.f_globals.get("__name__", "").split(".", 1)[0] == package:
        frame, level = frame.f_back, level + 1  # type: ignore[assignment]
    return level


# --- errors ---------------------------------------------------------------------------------------------


def _format_error(error: Any) -> str:
    path = _path(error["loc"])
    if error["type"] == "missing":
        return f"'{path}': Field required"
    return f"'{path}': {error['msg']} (got {_show(error['input'])})"


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "arguments"


def _show(value: Any) -> str:
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list | tuple):
        return "an array"
    text = repr(value) if isinstance(value, str) else pydantic_core.to_json(value, serialize_unknown=True).decode()
    return text if len(text) <= 60 else text[:57] + "..."


def _kind_of(value: Any) -> str:
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


# --- schema cleaning ------------------------------------------------------------------------------------

_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = (
    "items",
    "additionalProperties",
    "additionalItems",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
)
Schema = dict[str, Any]


def _map_children(node: Schema, fn: Callable[[Any], Any]) -> Schema:
    """A copy of ``node`` with ``fn`` applied to each direct subschema (never to data like defaults or enums)."""
    out: Schema = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: fn(v) for k, v in value.items()}
        elif key in _SCHEMA_LISTS and isinstance(value, list):
            out[key] = [fn(v) for v in value]
        elif key in _SCHEMA_ONE and isinstance(value, dict | list):
            out[key] = [fn(v) for v in value] if isinstance(value, list) else fn(value)
        else:
            out[key] = value
    return out


def _strip_titles(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    return _map_children({k: v for k, v in node.items() if k != "title"}, _strip_titles)


def _refs(node: Any) -> set[str]:
    """Names of the ``$defs`` entries referenced anywhere inside ``node``."""
    found: set[str] = set()

    def visit(n: Any) -> Any:
        if isinstance(n, dict):
            ref = n.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref[len("#/$defs/") :])
            _map_children(n, visit)
        return n

    visit(node)
    return found


def _cyclic(defs: dict[str, Schema]) -> set[str]:
    edges = {name: _refs(schema) for name, schema in defs.items()}

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        stack = list(edges.get(start, ()))
        while stack:
            cur = stack.pop()
            if cur == goal:
                return True
            if cur not in seen:
                seen.add(cur)
                stack.extend(edges.get(cur, ()))
        return False

    return {name for name in defs if reaches(name, name)}


def _merge_description(outer: str | None, inner: str | None) -> str | None:
    if outer and inner and outer != inner:
        return f"{outer}\n\n{inner}"
    return outer or inner


def _inline(node: Any, defs: dict[str, Schema], keep: set[str]) -> Any:
    """Replace ``$ref``s to non-recursive definitions with the definitions themselves."""
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[len("#/$defs/") :] not in keep:
        target = _inline(copy.deepcopy(defs[ref[len("#/$defs/") :]]), defs, keep)
        siblings = _inline({k: v for k, v in node.items() if k != "$ref"}, defs, keep)
        description = _merge_description(siblings.get("description"), target.get("description"))
        merged = {**target, **siblings}
        if description:
            merged["description"] = description
        return merged
    node = _map_children(node, lambda child: _inline(child, defs, keep))
    all_of = node.get("allOf")
    if isinstance(all_of, list) and len(all_of) == 1 and isinstance(all_of[0], dict):
        rest = {k: v for k, v in node.items() if k != "allOf"}
        description = _merge_description(rest.get("description"), all_of[0].get("description"))
        node = {**all_of[0], **rest}
        if description:
            node["description"] = description
    return node


def _accepts_null(schema: Any) -> bool:
    if not isinstance(schema, dict) or not schema or set(schema) <= {"description", "default"}:
        return True  # "anything" accepts null
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if None in schema.get("enum", [1]) or ("const" in schema and schema["const"] is None):
        return True
    return any(_accepts_null(s) for key in ("anyOf", "oneOf") for s in schema.get(key, []))


def _nullable(schema: Schema) -> Schema:
    outer: Schema = {k: schema[k] for k in ("description", "default") if k in schema}
    inner = {k: v for k, v in schema.items() if k not in outer}
    if list(inner) == ["anyOf"]:
        return {"anyOf": [*inner["anyOf"], {"type": "null"}], **outer}
    return {"anyOf": [inner, {"type": "null"}], **outer}


def _strictify(node: Any) -> Any:
    """Every object with declared properties: all of them required, ``additionalProperties: false``."""
    if not isinstance(node, dict):
        return node
    node = _map_children(node, _strictify)
    if isinstance(node.get("properties"), dict):
        node["required"] = list(node["properties"])
        node["additionalProperties"] = False
    return node


def _clean_schema(raw: Schema, *, strict: bool) -> tuple[Schema, list[str]]:
    """Titles stripped, ``$ref``s inlined unless recursive, strict form applied; also returns the properties
    made nullable in strict mode (null stands for their default)."""
    raw = _strip_titles(raw)
    defs: dict[str, Schema] = raw.pop("$defs", {})
    keep = _cyclic(defs)
    body = _inline(raw, defs, keep)
    kept = {name: _inline(defs[name], defs, keep) for name in sorted(keep)}
    properties: dict[str, Any] = body.get("properties", {})
    required: list[str] = body.get("required", [])
    nullable_defaults: list[str] = []
    if strict:
        for key, prop in list(properties.items()):
            if key not in required and not _accepts_null(prop):
                properties[key] = _nullable(prop)
                nullable_defaults.append(key)
        properties = {k: _strictify(v) for k, v in properties.items()}
        kept = {k: _strictify(v) for k, v in kept.items()}
        required = list(properties)
    schema: Schema = {"type": "object", "properties": properties}
    if required or strict:
        schema["required"] = required
    if strict:
        schema["additionalProperties"] = False
    if kept:
        # Keep only the recursive definitions still referenced.
        used = _refs(schema)
        pending = list(used)
        while pending:
            for ref in _refs(kept.get(pending.pop(), {})) - used:
                used.add(ref)
                pending.append(ref)
        if used:
            schema["$defs"] = {name: kept[name] for name in sorted(used) if name in kept}
    return schema, nullable_defaults
