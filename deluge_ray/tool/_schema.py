"""Turn the parameter forms a user may write into JSON Schema pieces.

``Tool(parameters=...)`` accepts several spellings of the same thing; this module turns
each into the three pieces a tool keeps: ``properties`` (name -> JSON Schema),
``required`` (names) and ``defs`` (shared ``$defs`` that ``$ref``s point into).

Accepted forms:

- a full JSON Schema object: ``{"type": "object", "properties": {...}, "required": [...]}``
  (a full schema whose ``type`` is not ``"object"`` is a :class:`ToolError`);
- a properties mapping whose values are JSON Schema dicts:
  ``{"city": {"type": "string"}}``;
- a mapping to Python types: ``{"city": str, "limit": int}``;
- a mapping to ``(type, extras)`` tuples: ``{"limit": (int, {"default": 10})}``;
- a pydantic ``BaseModel`` subclass or a ``TypedDict`` class (``Required``/``NotRequired``
  honoured).

In the mapping forms a property is required unless its schema carries a ``default`` or
the non-standard marker ``"optional": True`` (which is removed).

>>> params = normalize_parameters({"city": str, "limit": (int, {"default": 5})})
>>> params.properties["limit"], params.required
({'type': 'integer', 'default': 5}, ['city'])
"""

from __future__ import annotations

import copy
from typing import Any, NamedTuple, get_origin

from pydantic import BaseModel, TypeAdapter
from typing_extensions import is_typeddict  # also knows typing_extensions.TypedDict

from ..errors import ToolError

__all__ = ["NormalizedParameters", "clean_schema", "normalize_parameters", "schema_for_type"]

# Keys that mark a dict as a whole JSON Schema object rather than a properties mapping.
_OBJECT_SCHEMA_KEYS = {
    "type",
    "properties",
    "required",
    "$defs",
    "definitions",
    "additionalProperties",
    "title",
    "description",
    "$schema",
}


class NormalizedParameters(NamedTuple):
    """The pieces of an object schema a :class:`Tool` stores."""

    properties: dict[str, Any]
    required: list[str]
    defs: dict[str, Any] | None
    additional_properties: Any = None


def clean_schema(schema: Any) -> Any:
    """Return a copy of ``schema`` without pydantic's auto-generated ``title`` keywords.

    Titles such as ``"title": "City"`` add tokens and nothing else. A *property* named
    ``title`` is kept: only the keyword is removed, never a key inside ``properties``.
    """
    if isinstance(schema, list):
        return [clean_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" and isinstance(value, str):
            continue
        if key in ("properties", "$defs", "definitions", "patternProperties") and isinstance(
            value, dict
        ):
            out[key] = {name: clean_schema(sub) for name, sub in value.items()}
        else:
            out[key] = clean_schema(value)
    return out


def schema_for_type(annotation: Any) -> dict[str, Any]:
    """JSON Schema for a Python type annotation (via pydantic), without titles.

    Raises :class:`ToolError` when pydantic cannot describe the type.

    >>> schema_for_type(list[int])
    {'items': {'type': 'integer'}, 'type': 'array'}
    """
    try:
        schema = TypeAdapter(annotation).json_schema()
    except Exception as exc:  # pydantic raises several error types for unsupported types
        raise ToolError(
            f"Cannot build a JSON Schema for the type {annotation!r}: {exc}. "
            "Use a JSON-compatible type (str, int, float, bool, list, dict, Literal, "
            "a pydantic model) or give the schema as a dict."
        ) from exc
    return clean_schema(schema)


def _from_object_schema(schema: dict[str, Any]) -> NormalizedParameters:
    schema = clean_schema(schema)
    properties = schema.get("properties") or {}
    if not isinstance(properties, dict):
        raise ToolError("The 'properties' of a tool's parameter schema must be a dict.")
    defs = schema.get("$defs") or schema.get("definitions")
    return NormalizedParameters(
        properties=properties,
        required=list(schema.get("required") or []),
        defs=defs or None,
        additional_properties=schema.get("additionalProperties"),
    )


def _looks_like_object_schema(params: dict[str, Any]) -> bool:
    # A string "type" can only be a keyword (a property schema would be a dict there);
    # otherwise the dict is a whole schema only if every key is an object-schema keyword.
    if isinstance(params.get("type"), str):
        return True
    return isinstance(params.get("properties"), dict) and set(params) <= _OBJECT_SCHEMA_KEYS


def _property_schema(name: str, spec: Any) -> tuple[dict[str, Any], bool]:
    """Schema of one property given in a mapping, and whether it is required."""
    if isinstance(spec, dict):
        schema = clean_schema(spec)
    elif isinstance(spec, tuple):
        if len(spec) != 2 or not isinstance(spec[1], dict):
            raise ToolError(
                f"Parameter {name!r}: a tuple must be (type, extras_dict), "
                f"e.g. (int, {{'description': 'how many'}}); got {spec!r}."
            )
        schema = {**schema_for_type(spec[0]), **copy.deepcopy(spec[1])}
    elif isinstance(spec, type) or get_origin(spec) is not None:
        schema = schema_for_type(spec)
    else:
        raise ToolError(
            f"Parameter {name!r}: expected a JSON Schema dict, a Python type or a "
            f"(type, extras) tuple, got {spec!r}."
        )
    optional = bool(schema.pop("optional", False))
    return schema, not (optional or "default" in schema)


def normalize_parameters(params: Any) -> NormalizedParameters:
    """Normalise any accepted parameter form into :class:`NormalizedParameters`.

    Raises :class:`ToolError` for a schema that is not an object, or a value that is
    none of the accepted forms.
    """
    if params is None:
        return NormalizedParameters({}, [], None)
    if isinstance(params, type) and issubclass(params, BaseModel):
        return _from_object_schema(params.model_json_schema())
    if is_typeddict(params):
        return _from_object_schema(schema_for_type(params))
    if not isinstance(params, dict):
        raise ToolError(
            f"Tool parameters must be a dict (JSON Schema or name -> type mapping), a "
            f"pydantic BaseModel subclass or a TypedDict class; got {type(params).__name__}."
        )
    if _looks_like_object_schema(params):
        kind = params.get("type", "object")
        if kind != "object":
            raise ToolError(
                f"A tool's parameter schema must have type 'object' (the arguments are "
                f"named), got type {kind!r}. Wrap the value in an object property, e.g. "
                f"{{'type': 'object', 'properties': {{'value': {{'type': {kind!r}}}}}}}."
            )
        return _from_object_schema(params)
    properties: dict[str, Any] = {}
    required: list[str] = []
    for name, spec in params.items():
        schema, is_required = _property_schema(str(name), spec)
        # pydantic hoists nested models into $defs; keep them at the top level.
        properties[str(name)] = schema
        if is_required:
            required.append(str(name))
    defs = _hoist_defs(properties)
    return NormalizedParameters(properties, required, defs)


def _hoist_defs(properties: dict[str, Any]) -> dict[str, Any] | None:
    """Move ``$defs`` found inside property schemas to one shared table.

    Property schemas built from separate types each carry their own ``$defs``, but
    their ``$ref``s point at ``#/$defs/...`` of the *tool's* schema, so they must live
    at the top. Two different definitions with one name is an error.
    """
    defs: dict[str, Any] = {}
    for name, schema in properties.items():
        local = schema.pop("$defs", None) if isinstance(schema, dict) else None
        for def_name, definition in (local or {}).items():
            if def_name in defs and defs[def_name] != definition:
                raise ToolError(
                    f"Parameter {name!r} defines a different type named {def_name!r} than "
                    "another parameter; rename one of the models."
                )
            defs[def_name] = definition
    return defs or None
