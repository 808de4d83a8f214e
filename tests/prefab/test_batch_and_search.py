"""BatchTool and ToolSearchTool through their Tool objects."""

from __future__ import annotations

import json

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import BatchTool, ToolSearchTool

from .helpers import Recorder, add, fails


async def test_batch_runs_calls_concurrently_and_keeps_order() -> None:
    rec = Recorder()
    batch = BatchTool([rec.tool("slow"), Tool.from_function(add), Tool.from_function(fails)])
    [tool] = batch.get_tools()
    assert tool.name == "batch" and "add(a: integer, b: integer)" in tool.description
    out = json.loads(
        await tool.acall(
            calls=[
                {"tool": "slow", "arguments": {"x": 1}},
                {"tool": "nope", "arguments": {}},
                {"tool": "add", "arguments": {"a": 2, "b": 3}},
                {"tool": "fails", "arguments": {"message": "boom"}},
                {"tool": "slow", "arguments": {"x": 2}},
                {"tool": "add", "arguments": {"a": 1}},
            ]
        )
    )
    assert [r["status"] for r in out] == ["ok", "error", "ok", "error", "ok", "error"]
    assert out[0]["result"] == {"tool": "slow", "x": 1}
    assert "Unknown tool 'nope'" in out[1]["error"] and "add" in out[1]["error"]
    assert out[2]["result"] == 5
    assert "boom" in out[3]["error"]
    assert "missing required argument" in out[5]["error"]
    assert rec.overlapped("slow:1", "slow:2")


async def test_batch_rejects_non_list_and_non_object_calls() -> None:
    batch = BatchTool([Tool.from_function(add)])
    assert (await batch.run("oops"))[0]["status"] == "error"  # type: ignore[arg-type]
    [result] = await batch.run([42])  # type: ignore[list-item]
    assert "must be an object" in result["error"]


def test_duplicate_tool_names_are_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="named 'add'"):
        BatchTool([Tool.from_function(add), Tool.from_function(add)])


async def test_tool_search_finds_by_regex_and_calls_by_id() -> None:
    tools = [Tool.from_function(add), Tool.from_function(fails)]
    tools += [
        Tool(name=f"weather_{c}", description=f"Forecast for {c}", parameters={}, run=lambda: "sun")
        for c in "abc"
    ]
    search, call = ToolSearchTool(tools).get_tools()
    assert (search.name, call.name) == ("tool_search_tool_search", "tool_search_tool_call")
    found = json.loads(search.call(pattern="FORECAST", max_results=2))
    assert [f["id"] for f in found] == ["weather_a", "weather_b"]
    [adder] = json.loads(search.call(pattern="^add$"))
    assert adder["parameters"]["a"]["type"] == "integer" and adder["required"] == ["a", "b"]
    done = json.loads(await call.acall(tool_id="add", arguments={"a": 4, "b": 5}))
    assert done == {"tool": "add", "tool_id": "add", "result": 9}  # 0.0.168's envelope
    alias = json.loads(await call.acall(tool_id="add", args={"a": 1, "b": 1}))
    assert alias["result"] == 2


async def test_tool_search_bad_input_is_a_message() -> None:
    search, call = ToolSearchTool([Tool.from_function(add)]).get_tools()
    bad = json.loads(search.call(pattern="add("))
    assert "Invalid regular expression" in bad["error"]  # 0.0.168's {"error": ...}
    unknown = json.loads(await call.acall(tool_id="missing"))
    assert unknown == {"error": "Unknown tool id 'missing'"}
    wrong_args = json.loads(await call.acall(tool_id="add", arguments={"a": 1}))
    assert wrong_args["tool_id"] == "add" and "'b'" in wrong_args["error"]
