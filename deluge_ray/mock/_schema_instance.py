"""Build a plausible JSON value that satisfies a JSON schema (structured output, tool arguments).

A real model fills a schema with content, not with empty strings and zeros, and code that
post-processes structured output (a non-empty check, a range check) should see realistic
values on the mock too. So: strings are non-empty and chosen from the property name
(``city`` → ``"Paris"``) or a caller's ``hints``; numbers sit inside their bounds (the middle
of a closed range); arrays hold at least one item when allowed; nullable fields get a value;
``enum``/``const`` are respected. Everything is deterministic.

Covers what providers accept for structured output: objects, arrays, scalars, ``enum``,
``const``, ``anyOf``/``oneOf``/``allOf``, ``$ref`` into ``$defs``/``definitions``, string
length and numeric bounds. Optional properties are filled in too, because OpenAI's strict
mode lists every property as required anyway and a fuller instance exercises more parsing.

    >>> schema_instance({"type": "object", "properties": {"n": {"type": "integer", "minimum": 3}}})
    {'n': 3}
    >>> schema_instance({"type": "object", "properties": {"city": {"type": "string"}}})
    {'city': 'Paris'}
"""

from __future__ import annotations

from typing import Any

__all__ = ["schema_instance"]

_MAX_DEPTH = 12

# Plausible strings for common property names (matched on the lower-cased name, then on
# any word of it), so a structured reply reads like content.
_NAMED_STRINGS = {
    "city": "Paris",
    "location": "Paris",
    "country": "France",
    "name": "Ada Lovelace",
    "first_name": "Ada",
    "last_name": "Lovelace",
    "title": "A short mock title",
    "summary": "A short mock summary of the request.",
    "description": "A short mock description.",
    "answer": "42",
    "reason": "Chosen by the mock for a deterministic test.",
    "reasoning": "Chosen by the mock for a deterministic test.",
    "query": "mock search query",
    "language": "English",
    "unit": "celsius",
    "color": "blue",
    "colour": "blue",
    "category": "general",
    "sentiment": "positive",
    "label": "mock label",
    "text": "Mock text.",
    "content": "Mock content.",
    "url": "https://example.com",
    "email": "mock@example.com",
    "date": "2024-01-01",
    "id": "mock-id-1",
}

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00",
    "email": "mock@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "127.0.0.1",
}


def schema_instance(
    schema: Any,
    hints: dict[str, Any] | None = None,
    *,
    root: Any = None,
    name: str = "",
    depth: int = 0,
) -> Any:
    """Return a plausible value valid against ``schema`` (``root`` resolves ``$ref``).

    ``hints`` maps property names to preferred string values (a tool call takes the city
    from the user's question); ``name`` is the property being filled.
    """
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return {}
    again = {"hints": hints, "root": root, "name": name, "depth": depth + 1}
    if "$ref" in schema:
        return schema_instance(_resolve(schema["$ref"], root), **again)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf"):
        options = schema.get(combinator)
        if options:
            non_null = [o for o in options if not (isinstance(o, dict) and o.get("type") == "null")]
            return schema_instance((non_null or options)[0], **again)
    if schema.get("allOf"):
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = schema_instance(part, **again)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return _by_kind(kind, schema, hints, root, name, depth)


def _by_kind(
    kind: str,
    schema: dict[str, Any],
    hints: dict[str, Any] | None,
    root: Any,
    name: str,
    depth: int,
) -> Any:
    if kind == "object":
        props = schema.get("properties") or {}
        return {
            prop: schema_instance(sub, hints, root=root, name=prop, depth=depth + 1)
            for prop, sub in props.items()
        }
    if kind == "array":
        low = int(schema.get("minItems", 0) or 0)
        high = schema.get("maxItems")
        count = max(low, 1) if high is None else min(max(low, 1), int(high))
        items = schema.get("items") or {}
        return [
            schema_instance(items, hints, root=root, name=name, depth=depth + 1)
            for _ in range(count)
        ]
    if kind == "string":
        return _string(schema, hints, name)
    if kind in ("integer", "number"):
        return _number(kind, schema)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return {}


def _string(schema: dict[str, Any], hints: dict[str, Any] | None, name: str) -> str:
    key = name.lower()
    value = (hints or {}).get(key)
    if not isinstance(value, str) or not value:
        value = _FORMATS.get(schema.get("format", "")) or _NAMED_STRINGS.get(key)
    if value is None:
        words = key.replace("-", "_").split("_")
        value = next((_NAMED_STRINGS[w] for w in reversed(words) if w in _NAMED_STRINGS), None)
    if value is None:
        value = f"mock {name.replace('_', ' ')}".strip() if name else "mock value"
    low = int(schema.get("minLength", 0) or 0)
    if len(value) < low:
        value += "x" * (low - len(value))
    high = schema.get("maxLength")
    if high is not None:
        value = value[: int(high)]
    return value


def _number(kind: str, schema: dict[str, Any]) -> int | float:
    """Inside the bounds: the middle of a closed range, else next to the one bound given."""
    low = schema.get("minimum")
    high = schema.get("maximum")
    step = 1 if kind == "integer" else 0.5
    # Draft-4 schemas spell exclusive bounds as booleans beside minimum/maximum.
    if _is_number(schema.get("exclusiveMinimum")):
        low = schema["exclusiveMinimum"] + step
    elif schema.get("exclusiveMinimum") is True and low is not None:
        low += step
    if _is_number(schema.get("exclusiveMaximum")):
        high = schema["exclusiveMaximum"] - step
    elif schema.get("exclusiveMaximum") is True and high is not None:
        high -= step
    if low is not None and high is not None:
        value = (low + high) / 2
    elif low is not None:
        value = low + (1 if low < 1 else 0)
    elif high is not None:
        value = min(high, 1)
    else:
        value = 1
    if kind == "integer":
        value = int(value)
        if low is not None and value < low:
            value += 1
        return value
    return float(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _resolve(ref: str, root: Any) -> Any:
    if not ref.startswith("#/"):
        return {}
    node = root
    for part in ref[2:].split("/"):
        if not isinstance(node, dict) or part not in node:
            return {}
        node = node[part]
    return node
