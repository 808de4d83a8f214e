"""Schema dialects: strict mode for OpenAI/Anthropic, and Gemini's OpenAPI subset.

Strict mode (OpenAI ``"strict": true``, Anthropic ``"strict": true``) makes the provider
guarantee arguments that match the schema, but it accepts only *closed* schemas: every
object lists its properties, forbids others (``additionalProperties: false``) and
requires all of them. :func:`to_strict` performs that rewrite — a property that was
optional becomes required-but-nullable, and ``default`` values are dropped. A schema
with an open object (``dict[str, Any]``, ``additionalProperties: true``) cannot be
closed without changing its meaning; :func:`can_be_strict` reports that, and callers
fall back to the non-strict schema.

Gemini function declarations use an OpenAPI-3 subset: no ``$ref``/``$defs``, no
``additionalProperties``, nullability as ``nullable: true``. :func:`to_gemini` rewrites
a JSON Schema into that dialect.

>>> s = {"type": "object", "properties": {"q": {"type": "string"},
...      "n": {"type": "integer", "default": 3}}, "required": ["q"]}
>>> to_strict(s)["properties"]["n"]
{'type': ['integer', 'null']}
>>> can_be_strict({"type": "object", "properties": {"meta": {"type": "object"}}})
False
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["can_be_strict", "object_schema", "to_anthropic_strict", "to_gemini", "to_strict"]

# Constraints Anthropic's strict mode does not enforce; they move into the description
# so the model still sees them.
_ANTHROPIC_UNSUPPORTED = (
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minItems",
    "maxItems",
)

# The keywords a Gemini ``Schema`` object understands.
_GEMINI_KEYS = {
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "properties",
    "required",
    "items",
    "anyOf",
    "minItems",
    "maxItems",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "minProperties",
    "maxProperties",
    "default",
    "propertyOrdering",
}


def object_schema(
    properties: dict[str, Any],
    required: list[str],
    defs: dict[str, Any] | None = None,
    additional_properties: Any = None,
    *,
    deep_copy: bool = True,
) -> dict[str, Any]:
    """Assemble a top-level object schema from a tool's stored pieces.

    The pieces are deep-copied unless ``deep_copy=False``, for a caller that only reads
    the result or rebuilds it (as :func:`to_strict` does).
    """
    clone = copy.deepcopy if deep_copy else _same
    schema: dict[str, Any] = {
        "type": "object",
        "properties": clone(properties),
        "required": list(required),
    }
    if additional_properties is not None:
        schema["additionalProperties"] = clone(additional_properties)
    if defs:
        schema["$defs"] = clone(defs)
    return schema


def _same(value: Any) -> Any:
    return value


def _is_object(node: dict[str, Any]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind) or "properties" in node


def can_be_strict(schema: Any) -> bool:
    """Whether ``schema`` can be expressed in strict mode without changing its meaning.

    It cannot when some object is open (``additionalProperties`` true or a schema, no
    ``properties`` without an explicit ``additionalProperties: false``, or
    ``patternProperties``), or when it uses ``allOf``/``not``, which
    strict mode does not accept.
    """
    if isinstance(schema, list):
        return all(can_be_strict(item) for item in schema)
    if not isinstance(schema, dict):
        return True
    if "allOf" in schema or "not" in schema or "patternProperties" in schema:
        return False
    if _is_object(schema):
        extra = schema.get("additionalProperties")
        if extra not in (None, False):
            return False
        # No listed properties and no explicit `false`: a free-form dict.
        if not schema.get("properties") and extra is not False and "$ref" not in schema:
            return False
    for key, value in schema.items():
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            if not all(can_be_strict(sub) for sub in value.values()):
                return False
        elif key not in ("enum", "const", "default", "examples", "required") and not can_be_strict(
            value
        ):
            return False
    return True


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` widened to also accept ``null``."""
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema:
        if kind != "null":
            schema["type"] = [kind, "null"]
            if "enum" in schema and None not in schema["enum"]:
                schema["enum"] = [*schema["enum"], None]
        return schema
    if isinstance(kind, list):
        if "null" not in kind:
            schema["type"] = [*kind, "null"]
        return schema
    if "anyOf" in schema:
        if {"type": "null"} not in schema["anyOf"]:
            schema["anyOf"] = [*schema["anyOf"], {"type": "null"}]
        return schema
    # A $ref or an untyped schema: keep its description outside the union.
    description = schema.pop("description", None)
    wrapped: dict[str, Any] = {"anyOf": [schema, {"type": "null"}]}
    if description is not None:
        wrapped["description"] = description
    return wrapped


def _strict_node(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict_node(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "default":
            continue  # strict mode forbids defaults; the model must send every field
        if key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _strict_node(sub) for name, sub in value.items()}
        elif key == "oneOf":
            out["anyOf"] = _strict_node(value)  # strict mode knows anyOf, not oneOf
        elif key in ("enum", "const", "examples", "required"):
            out[key] = copy.deepcopy(value)
        else:
            out[key] = _strict_node(value)
    if _is_object(out) and "properties" in out:
        originally_required = set(node.get("required") or [])
        for name in list(out["properties"]):
            if name not in originally_required:
                out["properties"][name] = _nullable(out["properties"][name])
        out.setdefault("type", "object")
        out["required"] = list(out["properties"])
        out["additionalProperties"] = False
    return out


def to_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite an object schema for strict mode (see the module docstring).

    Only call this when :func:`can_be_strict` is true. The input is not modified, nor
    shared with the result: :func:`_strict_node` builds every dict and list anew and
    deep-copies the values it keeps whole (``enum``, ``const``, ...), so no copy first.
    """
    return _strict_node(schema)


def _move_constraints(node: Any) -> Any:
    if isinstance(node, list):
        return [_move_constraints(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    notes: list[str] = []
    for key, value in node.items():
        if key in _ANTHROPIC_UNSUPPORTED and not isinstance(value, dict):
            notes.append(f"{key}: {value}")
        elif key in ("properties", "$defs", "definitions") and isinstance(value, dict):
            out[key] = {name: _move_constraints(sub) for name, sub in value.items()}
        elif key in ("enum", "const", "examples", "required"):
            out[key] = value
        else:
            out[key] = _move_constraints(value)
    if notes:
        joined = ", ".join(notes)
        existing = out.get("description")
        out["description"] = f"{existing} ({joined})" if existing else f"({joined})"
    return out


def to_anthropic_strict(schema: dict[str, Any]) -> dict[str, Any]:
    """Strict schema for Anthropic: :func:`to_strict` plus unsupported numeric/length
    constraints moved into the description text."""
    return _move_constraints(to_strict(schema))


def _resolve_ref(ref: str, defs: dict[str, Any]) -> dict[str, Any] | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            return defs.get(ref[len(prefix) :])
    return None


def _gemini_node(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        ref = node["$ref"]
        target = _resolve_ref(ref, defs)
        if target is None or ref in seen:
            # Gemini has no references; a recursive type is cut off as a plain object.
            base: dict[str, Any] = {"type": "object"}
        else:
            base = _gemini_node(target, defs, (*seen, ref))
        siblings = {k: v for k, v in node.items() if k != "$ref"}
        return {**base, **_gemini_node(siblings, defs, seen)} if siblings else base

    out: dict[str, Any] = {}
    nullable = False
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {name: _gemini_node(sub, defs, seen) for name, sub in value.items()}
        elif key == "items" and isinstance(value, dict):
            out[key] = _gemini_node(value, defs, seen)
        elif key in ("anyOf", "oneOf") and isinstance(value, list):
            variants = [v for v in value if v != {"type": "null"}]
            nullable = nullable or len(variants) < len(value)
            converted = [_gemini_node(v, defs, seen) for v in variants]
            if len(converted) == 1:
                out.update(converted[0])
            elif converted:
                out["anyOf"] = converted
        elif key == "allOf" and isinstance(value, list):
            for part in value:
                out.update(_gemini_node(part, defs, seen))
        elif key == "const":
            out["enum"] = [value]
        elif key == "type" and isinstance(value, list):
            kinds = [k for k in value if k != "null"]
            nullable = nullable or len(kinds) < len(value)
            if len(kinds) == 1:
                out["type"] = kinds[0]
            elif kinds:
                out["anyOf"] = [{"type": k} for k in kinds]
        elif key == "enum" and isinstance(value, list):
            nullable = nullable or None in value
            out["enum"] = [v for v in value if v is not None]
        elif key in _GEMINI_KEYS:
            out[key] = copy.deepcopy(value)
    if nullable:
        out["nullable"] = True
    if out.get("enum") and "type" not in out:
        out["type"] = "string"
    if "required" in out and "properties" in out:
        out["required"] = [name for name in out["required"] if name in out["properties"]]
    return out


def to_gemini(schema: dict[str, Any]) -> dict[str, Any]:
    """Rewrite a JSON Schema into Gemini's function-declaration dialect.

    ``$ref``s are inlined (a recursive reference becomes a plain object), ``anyOf`` with
    ``null`` and ``["t", "null"]`` types become ``nullable: true``, ``const`` becomes a
    one-value ``enum``, and keywords Gemini rejects (``additionalProperties``, ``$defs``,
    ``$schema``...) are dropped.

    >>> to_gemini({"type": "object", "additionalProperties": False,
    ...            "properties": {"n": {"type": ["integer", "null"]}}})
    {'type': 'object', 'properties': {'n': {'type': 'integer', 'nullable': True}}}
    """
    defs = {**(schema.get("definitions") or {}), **(schema.get("$defs") or {})}
    return _gemini_node(schema, defs, ())
