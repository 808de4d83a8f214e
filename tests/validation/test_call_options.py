"""tools / output_schema that no request could be built from fail at the call, clearly."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from deluge_ray.client._tools import check_call_options
from deluge_ray.errors import ConfigurationError
from deluge_ray.tool import Tool


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


class Answer(BaseModel):
    value: int


TOOL = Tool.from_function(add)


@pytest.mark.parametrize(
    ("tools", "schema", "match"),
    [
        (TOOL, None, r"tools must be a list of tools, got a Tool; .*tools=\[tool\]"),
        ({"type": "web_search"}, None, "tools must be a list of tools, got a dict"),
        ("add", None, "tools must be a list of tools, got a str"),
        ([TOOL, 42], None, r"tools\[1\] is an int; pass a deluge_ray Tool"),
        ([add], None, r"tools\[0\] is a function; .*Tool.from_function"),
        (
            None,
            42,
            r"output_schema must be a pydantic BaseModel class or a JSON-schema dict, got an int \(42\)",
        ),
        (None, "Answer", "got a str"),
    ],
)
def test_bad_call_options_are_refused_with_what_to_do(tools, schema, match):
    with pytest.raises(ConfigurationError, match=match):
        check_call_options(tools, schema)


@pytest.mark.parametrize(
    ("tools", "schema"),
    [
        (None, None),
        ([], None),
        ([TOOL, {"type": "web_search_preview"}], None),
        ((TOOL,), Answer),
        (None, {"type": "object", "properties": {"value": {"type": "integer"}}}),
    ],
)
def test_good_call_options_pass(tools, schema):
    check_call_options(tools, schema)
