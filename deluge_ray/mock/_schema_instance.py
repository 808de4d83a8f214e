"""Build a small JSON value that satisfies a JSON schema (for structured-output replies).

Covers what providers accept for structured output: objects, arrays, scalars, ``enum``,
``const``, ``anyOf``/``oneOf``/``allOf``, ``$ref`` into ``$defs``/``definitions``, string
length and numeric bounds. Optional properties are filled in too, because OpenAI's strict
mode lists every property as required anyway and a fuller instance exercises more parsing.

    >>> minimal_instance({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}})
    {'n': 3}
"""

from __future__ import annotations

from typing import Any

__all__ = ["minimal_instance"]

_MAX_DEPTH = 12


def minimal_instance(schema: Any, root: Any = None, depth: int = 0) -> Any:
    """Return a small value valid against ``schema`` (``root`` resolves ``$ref``)."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return {}
    if "$ref" in schema:
        return minimal_instance(_resolve(schema["$ref"], root), root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        options = schema.get(combinator)
        if options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return minimal_instance((non_null or options)[0], root, depth + 1)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = minimal_instance(part, root, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _scalar_or_container(kind, schema, root, depth)


def _scalar_or_container(kind: str, schema: dict[str, Any], root: Any, depth: int) -> Any:
    if kind == "object":
        props = schema.get("properties") or {}
        return {name: minimal_instance(sub, root, depth + 1) for name, sub in props.items()}
    if kind == "array":
        count = int(schema.get("minItems", 0) or 0)
        items = schema.get("items") or {}
        return [minimal_instance(items, root, depth + 1) for _ in range(count)]
    if kind == "string":
        return "x" * int(schema.get("minLength", 0) or 0) or _string_for_format(schema)
    if kind in ("integer", "number"):
        return _number(kind, schema)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return {}


def _string_for_format(schema: dict[str, Any]) -> str:
    examples = {
        "date-time": "2024-01-01T00:00:00Z",
        "date": "2024-01-01",
        "time": "00:00:00",
        "email": "mock@example.com",
        "uri": "https://example.com",
        "uuid": "00000000-0000-4000-8000-000000000000",
    }
    return examples.get(schema.get("format", ""), "")


def _number(kind: str, schema: dict[str, Any]) -> int | float:
    value: float = 0
    if "minimum" in schema:
        value = max(value, schema["minimum"]) if "maximum" not in schema else schema["minimum"]
    if "exclusiveMinimum" in schema:
        value = schema["exclusiveMinimum"] + 1
    if "maximum" in schema and value > schema["maximum"]:
        value = schema["maximum"]
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - 1
    return int(value) if kind == "integer" else float(value)


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node
