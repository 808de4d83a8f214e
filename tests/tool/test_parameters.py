"""Every accepted spelling of ``parameters`` normalises to the same JSON Schema pieces."""

from __future__ import annotations

from typing import Literal

import pytest
from pydantic import BaseModel, Field
from typing_extensions import NotRequired, Required, TypedDict

from deluge_ray.errors import ToolError
from deluge_ray.tool import Tool


class SearchArgs(BaseModel):
    query: str = Field(description="Words to find")
    limit: int = 10


class TotalTD(TypedDict):
    query: str
    limit: NotRequired[int]


class PartialTD(TypedDict, total=False):
    query: Required[str]
    limit: int


def test_full_json_schema_object() -> None:
    tool = Tool(
        name="search",
        parameters={
            "type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer"}},
            "required": ["query"],
        },
    )
    assert tool.parameters == {"query": {"type": "string"}, "limit": {"type": "integer"}}
    assert tool.required == ["query"]


def test_properties_mapping_of_schemas_with_optional_marker_and_default() -> None:
    tool = Tool(
        name="search",
        parameters={
            "query": {"type": "string"},
            "lang": {"type": "string", "optional": True},
            "limit": {"type": "integer", "default": 5},
        },
    )
    assert tool.parameters["lang"] == {"type": "string"}  # the marker is not JSON Schema
    assert tool.required == ["query"]


def test_python_type_mapping() -> None:
    tool = Tool(
        name="t",
        parameters={"city": str, "limit": int, "tags": list[str], "unit": Literal["c", "f"]},
    )
    assert tool.parameters == {
        "city": {"type": "string"},
        "limit": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "string"}},
        "unit": {"type": "string", "enum": ["c", "f"]},
    }
    assert tool.required == ["city", "limit", "tags", "unit"]


def test_type_extras_tuples() -> None:
    tool = Tool(
        name="t",
        parameters={
            "city": (str, {"description": "City name"}),
            "limit": (int, {"default": 3, "minimum": 1}),
        },
    )
    assert tool.parameters["city"] == {"type": "string", "description": "City name"}
    assert tool.parameters["limit"] == {"type": "integer", "default": 3, "minimum": 1}
    assert tool.required == ["city"]


def test_pydantic_model() -> None:
    tool = Tool(name="search", parameters=SearchArgs)
    assert tool.parameters == {
        "query": {"type": "string", "description": "Words to find"},
        "limit": {"type": "integer", "default": 10},
    }
    assert tool.required == ["query"]


@pytest.mark.parametrize("td", [TotalTD, PartialTD])
def test_typeddict_required_and_not_required(td: type) -> None:
    tool = Tool(name="search", parameters=td)
    assert set(tool.parameters) == {"query", "limit"}
    assert tool.required == ["query"]


def test_nested_models_share_top_level_defs() -> None:
    class Point(BaseModel):
        x: float
        y: float

    class Route(BaseModel):
        start: Point
        end: Point

    tool = Tool(name="t", parameters={"route": Route, "via": (Route, {"description": "detour"})})
    # Each property's own $defs moved to the tool's table, where their $refs point.
    assert tool.definitions == {
        "Point": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
            "required": ["x", "y"],
        }
    }
    assert "$defs" not in tool.parameters["route"]
    assert tool.parameters["via"]["properties"]["start"] == {"$ref": "#/$defs/Point"}
    assert tool.parameters["via"]["description"] == "detour"
    assert tool.json_schema()["$defs"] == tool.definitions


def test_explicit_required_wins_over_inferred() -> None:
    tool = Tool(name="t", parameters={"a": str, "b": str}, required=["a"])
    assert tool.required == ["a"]


@pytest.mark.parametrize("kind", ["string", "array", "integer"])
def test_non_object_schema_is_rejected(kind: str) -> None:
    with pytest.raises(ToolError, match=rf"must have type 'object'.*{kind}"):
        Tool(name="t", parameters={"type": kind, "items": {"type": "string"}})


def test_unusable_parameter_values_are_rejected() -> None:
    with pytest.raises(ToolError, match=r"'a'.*tuple must be"):
        Tool(name="t", parameters={"a": (str, "not a dict")})
    with pytest.raises(ToolError, match="got list"):
        Tool(name="t", parameters=["a", "b"])
    with pytest.raises(ToolError, match="not among its parameters"):
        Tool(name="t", parameters={"a": str}, required=["b"])


@pytest.mark.parametrize(
    "name", ["", "has space", "9lives", "dots.not.ok", "x" * 65, "émoji", None, 12]
)
def test_invalid_names_are_rejected(name: object) -> None:
    with pytest.raises(ToolError, match="Invalid tool name"):
        Tool(name=name)


@pytest.mark.parametrize("name", ["a", "_private", "get-weather", "tool_2", "x" * 64])
def test_valid_names_are_accepted(name: str) -> None:
    assert Tool(name=name).name == name
