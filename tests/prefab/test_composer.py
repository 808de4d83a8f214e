"""ToolComposer: snippets that orchestrate tools, concurrency, and the sandbox's refusals."""

from __future__ import annotations

import json

import pytest

from deluge_ray.tool import Tool
from deluge_ray.tool.prefab import ToolComposer

from .helpers import Recorder, add, fails


def lookup(user_id: int) -> str:
    """Look up a user; returns JSON text like many real tools do."""
    return json.dumps({"id": user_id, "name": f"user{user_id}", "score": user_id * 10})


@pytest.fixture
def composer() -> ToolComposer:
    tools = [Tool.from_function(add), Tool.from_function(lookup), Tool.from_function(fails)]
    return ToolComposer(tools, max_steps=20_000)


async def compose(composer: ToolComposer, code: str) -> str:
    [tool] = composer.get_tools()
    return await tool.acall(code=code)


async def test_snippet_combines_tool_results_and_returns_only_final_output(
    composer: ToolComposer,
) -> None:
    code = (
        "users = [lookup(i) for i in range(1, 4)]\n"
        "best = max(users, key=len)\n"  # a builtin as key
        "total = 0\n"
        "for u in users:\n"
        "    if u['score'] > 10:\n"
        "        total += u['score']\n"
        'print(f"{len(users)} users, total {total}")\n'
        "result = {'names': sorted([u['name'] for u in users], reverse=True), 'sum': add(2, b=3)}\n"
    )
    out = await compose(composer, code)
    first, second = out.split("\n")
    assert first == "3 users, total 50"
    assert json.loads(second) == {"names": ["user3", "user2", "user1"], "sum": 5}


async def test_string_result_and_no_output_note(composer: ToolComposer) -> None:
    assert await compose(composer, "result = 'done'") == "done"
    assert "no output" in await compose(composer, "x = 1")


async def test_independent_tool_calls_run_concurrently() -> None:
    rec = Recorder()
    composer = ToolComposer([rec.tool("t1"), rec.tool("t2"), rec.tool("t3")])
    out = await composer.execute("a = t1(x=1)\nb = t2(x=2)\nprint(a['x'], b['x'])")
    assert out == "1 2"
    assert rec.overlapped("t1:1", "t2:2")
    # Calls made in a loop and stored (append) also overlap.
    await composer.execute("rs = []\nfor i in range(3):\n    rs.append(t3(x=i))\nresult = rs")
    assert rec.overlapped("t3:0", "t3:2")


async def test_dependent_call_waits_for_its_input() -> None:
    rec = Recorder()
    composer = ToolComposer([rec.tool("first"), rec.tool("second")])
    await composer.execute("a = first(x=1)\nb = second(x=a['x'] + 1)\nresult = b")
    assert rec.events.index(("end", "first:1")) < rec.events.index(("start", "second:2"))
    assert not rec.overlapped("first:1", "second:2")  # the recorder does see serial calls


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("import os", "imports are not allowed"),
        ("from subprocess import run", "imports are not allowed"),
        ("x = ().__class__.__bases__[0]", "attribute '__bases__' is not allowed"),
        ("x = ''.__class__.__subclasses__()", "is not allowed"),
        ("x = [].__class__", "attribute '__class__' is not allowed"),
        ("open('/etc/passwd')", "'open' is not available"),
        ("eval('1 + 1')", "'eval' is not available"),
        ("exec('x = 1')", "'exec' is not available"),
        ("getattr(1, 'real')", "'getattr' is not available"),
        ("x = __import__('os')", "name '__import__' is not allowed"),
        ("x = __builtins__", "name '__builtins__' is not allowed"),
        ("'{0.__class__}'.format(1)", "str.format is not available"),
        ("add.run", "not available"),
        ("str.mro()", "str.mro is not available"),
        ("def f():\n    return 1", "defining functions is not allowed"),
        ("f = lambda: 1", "lambda is not allowed"),
        ("class A:\n    pass", "defining classes is not allowed"),
        ("global x", "'global' is not allowed"),
        ("with x as y:\n    pass", "'with' is not allowed"),
        ("x = [1]\nx.y = 2", "setting or deleting attributes"),
    ],
)
async def test_escape_attempts_are_refused_with_a_security_message(
    composer: ToolComposer, code: str, needle: str
) -> None:
    out = await compose(composer, code)
    assert out.startswith("Security error:") and needle in out, out


@pytest.mark.parametrize(
    "code",
    [
        "while True:\n    pass",
        "i = 0\nwhile i >= 0:\n    i += 1",
        "for i in range(10):\n    for j in range(100000):\n        pass",
    ],
)
async def test_endless_or_huge_loops_are_stopped_by_the_step_limit(
    composer: ToolComposer, code: str
) -> None:
    out = await compose(composer, code)
    assert out.startswith("Execution error:") and "stopped after 20,000 evaluation steps" in out


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("x = 'a' * 10**8", "limit is 1,000,000"),
        ("x = [[0] * 1000] * 10000", "limit is 1,000,000"),
        ("x = 2 ** 100000000", "too large"),
        ("x = list(range(10**9))", "over the limit"),
        ("x = f'{1:>999999999}'", "absurd width"),
        ("row = [0] * 400000\nrows = [row, row, row]\nprint(rows)", "the printed value"),
        ("row = [0] * 400000\nresult = [row, row]", "result would hold"),
    ],
)
async def test_memory_bombs_are_refused(composer: ToolComposer, code: str, needle: str) -> None:
    out = await compose(composer, code)
    assert out.startswith("Execution error:") and needle in out, out


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("x = (", "syntax error at line 1"),
        ("print(missing)", "name 'missing' is not defined"),
        ("x = 1 / 0", "line 1: ZeroDivisionError"),
        ("fails(message='boom')", "tool 'fails' failed: RuntimeError: boom"),
        ("add(1)", "missing required argument"),
        ("add(1, 2, 3)", "takes at most 2 positional arguments"),
        ("", "code is empty"),
        ("break", "outside a loop"),
    ],
)
async def test_runtime_failures_are_execution_errors(
    composer: ToolComposer, code: str, needle: str
) -> None:
    out = await compose(composer, code)
    assert out.startswith("Execution error:") and needle in out, out


async def test_tool_call_budget_is_enforced() -> None:
    composer = ToolComposer([Tool.from_function(add)], max_tool_calls=3)
    out = await composer.get_tools()[0].acall(code="r = [add(i, i) for i in range(5)]")
    assert "at most 3 tool calls" in out


def test_compose_tool_description_lists_signatures(composer: ToolComposer) -> None:
    tool = composer.get_compose_tool()
    assert tool.name == "compose" and tool.required == ["code"]
    assert "add(a: int, b: int)" in tool.description
    assert [t.name for t in composer.get_all_tools()] == ["compose", "add", "lookup", "fails"]
