"""Tool.from_function reads hints, docstrings (three styles), defaults and Annotated."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, Field

from deluge_ray.errors import ToolError
from deluge_ray.tool import Tool


class Forecast(BaseModel):
    city: str
    highs: list[float]


def google_style(city: str, days: int = 3, unit: Literal["c", "f"] = "c") -> Forecast:
    """Forecast the weather.

    Looks a few days ahead.

    Args:
        city (str): Name of the city.
        days: How many days
            to forecast.

    Returns:
        The forecast.
    """
    return Forecast(city=city, highs=[20.0] * days)


def numpy_style(query: str, limit: int = 10) -> list[str]:
    """Search the catalogue.

    Parameters
    ----------
    query : str
        Words to look for.
    limit : int, optional
        Maximum number of hits.

    Returns
    -------
    list of str
    """
    return [query][:limit]


def sphinx_style(path: str, recursive: bool = False) -> None:
    """List a directory.

    :param path: Directory to list.
    :param bool recursive: Whether to descend
        into subdirectories.
    :returns: nothing
    """


def annotated(
    text: Annotated[str, "The text to shout"],
    times: Annotated[int, Field(description="Repeat count", ge=1)] = 1,
) -> str:
    """Shout.

    Args:
        text: ignored, Annotated wins.
    """
    return (text.upper() + " ") * times


def test_google_docstring_hints_and_defaults() -> None:
    tool = Tool.from_function(google_style)
    assert tool.name == "google_style"
    assert tool.description == "Forecast the weather.\n\nLooks a few days ahead."
    assert tool.parameters == {
        "city": {"type": "string", "description": "Name of the city."},
        "days": {"type": "integer", "default": 3, "description": "How many days to forecast."},
        "unit": {"type": "string", "enum": ["c", "f"], "default": "c"},
    }
    assert tool.required == ["city"]
    assert tool.run is google_style


def test_numpy_docstring() -> None:
    tool = Tool.from_function(numpy_style)
    assert tool.description == "Search the catalogue."
    assert tool.parameters["query"]["description"] == "Words to look for."
    assert tool.parameters["limit"]["description"] == "Maximum number of hits."
    assert tool.output_schema == {"type": "array", "items": {"type": "string"}}


def test_sphinx_docstring_and_none_return_has_no_output_schema() -> None:
    tool = Tool.from_function(sphinx_style)
    assert tool.description == "List a directory."
    assert tool.parameters["path"]["description"] == "Directory to list."
    assert tool.parameters["recursive"] == {
        "type": "boolean",
        "default": False,
        "description": "Whether to descend into subdirectories.",
    }
    assert tool.output_schema is None


def test_annotated_descriptions_win_and_constraints_are_kept() -> None:
    tool = Tool.from_function(annotated)
    assert tool.parameters["text"] == {"type": "string", "description": "The text to shout"}
    assert tool.parameters["times"] == {
        "type": "integer",
        "description": "Repeat count",
        "minimum": 1,
        "default": 1,
    }


def test_output_schema_from_return_model_and_in_description() -> None:
    tool = Tool.from_function(google_style, include_output_schema_in_description=True)
    assert tool.output_schema == {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "highs": {"type": "array", "items": {"type": "number"}},
        },
        "required": ["city", "highs"],
    }
    # lm-deluge 0.0.168's wording: the return type's name (its models as JSON lines only
    # when the schema has $defs, e.g. for list[Forecast]).
    assert tool.description.startswith("Forecast the weather.")
    assert tool.description.endswith("\n\nReturns: Forecast")
    assert "highs" not in (Tool.from_function(google_style).description or "")


def test_nested_model_parameters_use_defs_and_name_override() -> None:
    def plan(trip: Forecast, note: str | None = None) -> str:
        return note or trip.city

    tool = Tool.from_function(plan, name="plan_trip")
    assert tool.name == "plan_trip"
    assert tool.parameters["trip"] == {"$ref": "#/$defs/Forecast"}
    assert tool.definitions is not None and "Forecast" in tool.definitions
    assert tool.parameters["note"] == {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }
    assert tool.required == ["trip"]


def test_var_args_are_skipped_and_unannotated_params_accept_anything() -> None:
    def loose(a, *rest, b: int = 0, **extra):
        return a

    tool = Tool.from_function(loose)
    assert tool.parameters == {"a": {}, "b": {"type": "integer", "default": 0}}
    assert tool.required == ["a"]


def test_bad_function_name_or_type_is_a_tool_error() -> None:
    with pytest.raises(ToolError, match="Invalid tool name '<lambda>'"):
        Tool.from_function(lambda x: x)

    class Opaque:
        pass

    def takes_opaque(thing: Opaque) -> None:
        pass

    with pytest.raises(ToolError, match=r"parameter schema for .*takes_opaque"):
        Tool.from_function(takes_opaque)
