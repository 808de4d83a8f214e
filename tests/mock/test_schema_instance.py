"""Structured-output values the mock invents satisfy their schema and read like content."""

from __future__ import annotations

import pytest

from deluge_ray.mock._schema_instance import schema_instance
from deluge_ray.mock._tool_use import question_subject


@pytest.mark.parametrize(
    ("schema", "check"),
    [
        ({"type": "integer", "minimum": 10, "maximum": 20}, lambda v: v == 15),
        ({"type": "integer", "exclusiveMinimum": 5}, lambda v: v == 6),
        ({"type": "number", "exclusiveMaximum": 0}, lambda v: v < 0),
        ({"type": "number", "minimum": 0, "maximum": 1}, lambda v: v == 0.5),
        (
            {"type": "integer", "minimum": 3, "exclusiveMaximum": True, "maximum": 4},
            lambda v: v == 3,
        ),
        ({"type": "string", "minLength": 40}, lambda v: len(v) >= 40),
        ({"type": "string", "maxLength": 3}, lambda v: 0 < len(v) <= 3),
        ({"type": "string", "format": "date-time"}, lambda v: v.startswith("2024-")),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, lambda v: len(v) == 2),
        ({"type": "array", "items": {"type": "string"}, "maxItems": 0}, lambda v: v == []),
        ({"enum": ["b", "a"]}, lambda v: v == "b"),
        ({"anyOf": [{"type": "null"}, {"type": "boolean"}]}, lambda v: v is True),
    ],
)
def test_values_respect_their_bounds(schema, check) -> None:
    assert check(schema_instance(schema))


def test_refs_and_named_strings_give_plausible_content() -> None:
    schema = {
        "$defs": {"Place": {"type": "object", "properties": {"city": {"type": "string"}}}},
        "type": "object",
        "properties": {
            "home": {"$ref": "#/$defs/Place"},
            "user_name": {"type": "string"},
            "favourite_dish": {"type": "string"},
        },
    }
    assert schema_instance(schema) == {
        "home": {"city": "Paris"},
        "user_name": "Ada Lovelace",
        "favourite_dish": "mock favourite dish",
    }
    assert schema_instance(schema, {"city": "Oslo"})["home"] == {"city": "Oslo"}


@pytest.mark.parametrize(
    ("question", "subject"),
    [
        ("What's the weather in Paris?", "Paris"),
        ("What's the weather in city number 3?", "city number 3"),
        ("Is London rainy today", "London"),
        ("hello", "hello"),
    ],
)
def test_question_subject(question, subject) -> None:
    assert question_subject(question) == subject
