"""Provider serialisers, field by field, including strict conversion and its fallback."""

from __future__ import annotations

from typing import Any

import pytest

from deluge_ray.tool import Tool

STRICTABLE = Tool(
    name="search",
    description="Search the web.",
    parameters={
        "query": {"type": "string", "minLength": 2},
        "limit": {"type": "integer", "default": 5, "maximum": 50},
        "filters": {
            "type": "object",
            "properties": {"site": {"type": "string"}, "lang": {"type": "string"}},
            "required": ["site"],
        },
    },
    required=["query", "filters"],
)

# `meta` is a free-form dict: closing it would change what the model may send.
OPEN = Tool(
    name="tag",
    parameters={"item": {"type": "string"}, "meta": {"type": "object"}},
    required=["item"],
)

STRICT_PARAMETERS = {
    "type": "object",
    "properties": {
        "query": {"type": "string", "minLength": 2},
        "limit": {"type": ["integer", "null"], "maximum": 50},
        "filters": {
            "type": "object",
            "properties": {"site": {"type": "string"}, "lang": {"type": ["string", "null"]}},
            "required": ["site", "lang"],
            "additionalProperties": False,
        },
    },
    "required": ["query", "limit", "filters"],
    "additionalProperties": False,
}


def test_openai_completions_strict() -> None:
    assert STRICTABLE.for_openai_completions() == {
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the web.",
            "parameters": STRICT_PARAMETERS,
            "strict": True,
        },
    }


def test_a_strict_rendering_shares_nothing_with_the_tool() -> None:
    # The strict schema is built without copying the tool's pieces first (every model
    # call of an agent loop renders its tools): nothing in it may alias them.
    tool = Tool(
        name="pick",
        parameters={
            "color": {"type": "string", "enum": ["red", "blue"]},
            "sizes": {"type": "array", "items": {"type": "integer"}},
            "where": {"$ref": "#/$defs/place"},
        },
        required=["color"],
        definitions={
            "place": {"type": "object", "properties": {"x": {"type": "number"}}, "required": ["x"]}
        },
    )
    before = tool.model_dump()
    first = tool.for_openai_completions()["function"]["parameters"]
    assert first["properties"]["sizes"]["type"] == ["array", "null"]
    first["properties"]["color"]["enum"].append("green")
    first["properties"]["sizes"]["items"]["type"] = "string"
    first["$defs"]["place"]["properties"]["x"]["type"] = "string"
    assert tool.model_dump() == before
    assert tool.for_openai_completions()["function"]["parameters"] != first


def test_openai_completions_non_strict_keeps_the_schema() -> None:
    spec = STRICTABLE.for_openai_completions(strict=False)
    assert spec["function"]["strict"] is False
    params = spec["function"]["parameters"]
    assert params["required"] == ["query", "filters"]
    assert params["properties"]["limit"] == {"type": "integer", "default": 5, "maximum": 50}


def test_open_dict_falls_back_to_non_strict_everywhere() -> None:
    expected = {
        "type": "object",
        "properties": {"item": {"type": "string"}, "meta": {"type": "object"}},
        "required": ["item"],
    }
    completions = OPEN.for_openai_completions()["function"]
    assert completions["strict"] is False and completions["parameters"] == expected
    responses = OPEN.for_openai_responses()
    assert responses["strict"] is False and responses["parameters"] == expected
    anthropic = OPEN.for_anthropic()
    assert "strict" not in anthropic and anthropic["input_schema"] == expected
    assert "description" not in completions  # no description given, none sent


def test_openai_responses_is_flat() -> None:
    assert STRICTABLE.for_openai_responses() == {
        "type": "function",
        "name": "search",
        "description": "Search the web.",
        "parameters": STRICT_PARAMETERS,
        "strict": True,
    }


def test_anthropic_strict_moves_unsupported_constraints_into_descriptions() -> None:
    spec = STRICTABLE.for_anthropic()
    assert set(spec) == {"name", "description", "input_schema", "strict"}
    assert spec["strict"] is True
    props = spec["input_schema"]["properties"]
    assert props["query"] == {"type": "string", "description": "(minLength: 2)"}
    assert props["limit"] == {"type": ["integer", "null"], "description": "(maximum: 50)"}
    assert spec["input_schema"]["required"] == ["query", "limit", "filters"]
    assert spec["input_schema"]["additionalProperties"] is False


def test_anthropic_non_strict() -> None:
    assert STRICTABLE.for_anthropic(strict=False) == {
        "name": "search",
        "description": "Search the web.",
        "input_schema": STRICTABLE.json_schema(),
    }


def test_strict_handles_refs_enums_and_any_of() -> None:
    tool = Tool(
        name="t",
        parameters={
            "type": "object",
            "properties": {
                "where": {"$ref": "#/$defs/Place", "description": "target"},
                "mode": {"type": "string", "enum": ["a", "b"]},
                "either": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            },
            "required": [],
            "$defs": {"Place": {"type": "object", "properties": {"x": {"type": "number"}}}},
        },
    )
    params = tool.for_openai_completions()["function"]["parameters"]
    assert params["properties"]["where"] == {
        "anyOf": [{"$ref": "#/$defs/Place"}, {"type": "null"}],
        "description": "target",
    }
    assert params["properties"]["mode"] == {"type": ["string", "null"], "enum": ["a", "b", None]}
    assert params["properties"]["either"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}]
    }
    assert params["$defs"]["Place"] == {
        "type": "object",
        "properties": {"x": {"type": ["number", "null"]}},
        "required": ["x"],
        "additionalProperties": False,
    }


@pytest.mark.parametrize(
    "prop",
    [
        {"type": "object", "additionalProperties": {"type": "integer"}},  # dict[str, int]
        {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": True},
        {"allOf": [{"type": "string"}]},
    ],
)
def test_schemas_that_cannot_be_strict(prop: dict[str, Any]) -> None:
    tool = Tool(name="t", parameters={"p": prop})
    assert tool.for_openai_completions()["function"]["strict"] is False
    assert tool.for_openai_responses()["strict"] is False
    assert "strict" not in tool.for_anthropic()


def test_tool_without_arguments_is_strict_and_gemini_omits_parameters() -> None:
    tool = Tool(name="now", description="Current time.")
    assert tool.for_openai_responses()["parameters"] == {
        "type": "object",
        "properties": {},
        "required": [],
        "additionalProperties": False,
    }
    assert tool.for_openai_responses()["strict"] is True
    assert tool.for_gemini() == {"name": "now", "description": "Current time."}


def test_gemini_dialect_inlines_refs_and_drops_unsupported_keywords() -> None:
    tool = Tool(
        name="route",
        description="Plan a route.",
        parameters={
            "type": "object",
            "properties": {
                "start": {"$ref": "#/$defs/Point"},
                "via": {"anyOf": [{"$ref": "#/$defs/Point"}, {"type": "null"}]},
                "mode": {"const": "walk"},
                "speed": {"type": ["number", "null"], "exclusiveMinimum": 0},
                "tags": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["start", "mode"],
            "additionalProperties": False,
            "$defs": {
                "Point": {
                    "type": "object",
                    "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                    "required": ["x", "y"],
                    "additionalProperties": False,
                }
            },
        },
    )
    point = {
        "type": "object",
        "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        "required": ["x", "y"],
    }
    assert tool.for_gemini() == {
        "name": "route",
        "description": "Plan a route.",
        "parameters": {
            "type": "object",
            "properties": {
                "start": point,
                "via": {**point, "nullable": True},
                "mode": {"enum": ["walk"], "type": "string"},
                "speed": {"type": "number", "nullable": True},
                "tags": {"type": "object"},
            },
            "required": ["start", "mode"],
        },
    }


def test_gemini_cuts_recursive_refs() -> None:
    tool = Tool(
        name="tree",
        parameters={
            "type": "object",
            "properties": {"root": {"$ref": "#/$defs/Node"}},
            "$defs": {
                "Node": {
                    "type": "object",
                    "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
                }
            },
        },
    )
    root = tool.for_gemini()["parameters"]["properties"]["root"]
    assert root["properties"]["kids"]["items"] == {"type": "object"}


def test_built_in_tools_pass_through() -> None:
    tool = Tool.built_in("web_search_preview", search_context_size="low")
    assert tool.for_openai_responses() == {
        "type": "web_search_preview",
        "search_context_size": "low",
    }
    bash = Tool.built_in("bash", type="bash_20250124")
    assert bash.for_anthropic() == {"name": "bash", "type": "bash_20250124"}


def test_serialisers_do_not_mutate_the_tool() -> None:
    before = STRICTABLE.model_dump(exclude={"run"})
    STRICTABLE.for_openai_completions()
    STRICTABLE.for_anthropic()
    STRICTABLE.for_gemini()
    assert STRICTABLE.model_dump(exclude={"run"}) == before
