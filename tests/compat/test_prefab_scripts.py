"""Prefab managers driven as tools: names, argument schemas and result envelopes are
0.0.168's (models and prompts are tuned to them). Same script, both libraries."""

from __future__ import annotations

import asyncio
import importlib
import json

import lm_deluge
import lm_deluge.tool.prefab as oracle_prefab

import deluge_ray
import deluge_ray.tool.prefab as our_prefab

LIBS = ((lm_deluge, oracle_prefab), (deluge_ray, our_prefab))


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


def greet(name: str, loud: bool = False) -> str:
    """Greet someone."""
    if name == "boom":
        raise RuntimeError("cannot greet boom")
    return name.upper() if loud else name


def _tools(lib):
    return [lib.Tool.from_function(add), lib.Tool.from_function(greet)]


def _both(script):
    return [script(lib, prefab) for lib, prefab in LIBS]


def test_tool_search_tool_names_and_parameter_names():
    def script(lib, prefab):
        return [
            (t.name, sorted(t.parameters), t.required)
            for t in prefab.ToolSearchTool(_tools(lib)).get_tools()
        ]

    theirs, ours = _both(script)
    assert ours == theirs


def test_tool_search_envelopes_match_0_0_168():
    def script(lib, prefab):
        search, call = prefab.ToolSearchTool(_tools(lib)).get_tools()

        async def run():
            return [
                json.loads(await search.acall(pattern="add")),
                json.loads(await search.acall(pattern="greet|add", max_results=1)),
                json.loads(await call.acall(tool_id="add", arguments={"a": 2, "b": 3})),
                json.loads(await call.acall(tool_id="greet", args={"name": "x"})),
                json.loads(await call.acall(tool_id="nope", arguments={})),
                sorted(json.loads(await call.acall(tool_id="greet", arguments={"name": "boom"}))),
                sorted(json.loads(await search.acall(pattern="("))),
            ]

        return asyncio.run(run())

    theirs, ours = _both(script)
    assert ours == theirs


def test_batch_tool_schema_uses_per_tool_defs_like_0_0_168():
    def script(lib, prefab):
        tool = prefab.BatchTool(_tools(lib)).get_tool()
        calls = dict(tool.parameters["calls"])
        calls.pop("description")
        return tool.name, calls, tool.required, tool.definitions

    theirs, ours = _both(script)
    assert ours == theirs


def test_batch_tool_results_match_0_0_168():
    def script(lib, prefab):
        tool = prefab.BatchTool(_tools(lib)).get_tool()
        out = json.loads(
            asyncio.run(
                tool.acall(
                    calls=[
                        {"tool": "add", "arguments": {"a": 1, "b": 2}},
                        {"tool": "greet", "arguments": {"name": "boom"}},
                        {"tool": "greet", "arguments": {"name": "ok", "loud": True}},
                    ]
                )
            )
        )
        return [(r["tool"], r["status"], r.get("result")) for r in out]

    theirs, ours = _both(script)
    assert ours == theirs


def test_todo_manager_tool_names_and_parameters():
    """deluge_ray's todowrite also takes ``merge`` (listed in the README's differences)."""

    def script(lib, prefab):
        return {t.name: set(t.parameters or {}) for t in prefab.TodoManager().get_tools()}

    theirs, ours = _both(script)
    assert ours.keys() == theirs.keys()
    assert ours["todowrite"] - theirs["todowrite"] == {"merge"}
    assert all(theirs[name] <= ours[name] for name in theirs)


def test_memory_manager_tool_names_and_parameters():  # 0.0.168: only at tool.prefab.memory
    def script(lib, prefab):
        manager = importlib.import_module(prefab.__name__ + ".memory").MemoryManager()
        return {t.name: set(t.parameters or {}) for t in manager.get_tools()}

    theirs, ours = _both(script)
    assert list(ours) == list(theirs)
    # deluge_ray's memsearch also takes a regex ``pattern`` (README's differences).
    assert ours["memsearch"] - theirs["memsearch"] == {"pattern"}
    assert all(theirs[name] <= ours[name] for name in theirs)
