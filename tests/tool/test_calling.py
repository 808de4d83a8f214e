"""call/acall for sync and async callables, validate_output, argument errors, pickling."""

from __future__ import annotations

import asyncio
import pickle
import threading

import cloudpickle
import pytest

from deluge_ray.errors import ToolError
from deluge_ray.tool import Tool

from ._funcs import multiply, slow_upper


def test_call_sync_function_outside_a_loop() -> None:
    tool = Tool.from_function(multiply)
    assert tool.call(a=3) == 6
    assert tool.call(a=3, b=5) == 15


def test_call_async_function_outside_a_loop() -> None:
    assert Tool.from_function(slow_upper).call(text="hi") == "HI"


async def test_call_async_function_from_inside_a_running_loop() -> None:
    # asyncio.run would refuse here; the tool must still produce its result.
    assert Tool.from_function(slow_upper).call(text="inside") == "INSIDE"


async def test_acall_awaits_coroutines_on_the_running_loop() -> None:
    seen: list[asyncio.AbstractEventLoop] = []

    async def where(x: int) -> int:
        seen.append(asyncio.get_running_loop())
        return x + 1

    assert await Tool.from_function(where).acall(x=1) == 2
    assert seen == [asyncio.get_running_loop()]


async def test_acall_runs_sync_functions_off_the_event_loop_thread() -> None:
    threads: list[int] = []

    def record(x: int) -> int:
        threads.append(threading.get_ident())
        return x * 2

    assert await Tool.from_function(record).acall(x=4) == 8
    assert threads and threads[0] != threading.get_ident()


async def test_acall_of_callable_object_with_async_call() -> None:
    class Adder:
        async def __call__(self, a: int, b: int) -> int:
            return a + b

    tool = Tool(name="adder", parameters={"a": int, "b": int}, run=Adder())
    assert await tool.acall(a=1, b=2) == 3
    assert tool.call(a=2, b=2) == 4


def test_missing_and_unexpected_arguments_are_tool_errors() -> None:
    tool = Tool.from_function(multiply)
    with pytest.raises(ToolError, match=r"'multiply' is missing required argument\(s\) 'a'"):
        tool.call(b=2)
    with pytest.raises(ToolError, match=r"'multiply' cannot be called with \['a', 'c'\]"):
        tool.call(a=1, c=2)


async def test_acall_checks_arguments_too() -> None:
    with pytest.raises(ToolError, match="missing required argument"):
        await Tool.from_function(slow_upper).acall()


def test_errors_raised_by_the_tool_propagate_unchanged() -> None:
    def boom(x: int) -> int:
        raise KeyError(x)

    with pytest.raises(KeyError):
        Tool.from_function(boom).call(x=1)


def test_tool_without_run_cannot_be_called() -> None:
    with pytest.raises(ToolError, match="has no run callable"):
        Tool(name="schema_only", parameters={"a": int}).call(a=1)


def test_validate_output_accepts_matching_and_rejects_mismatching_results() -> None:
    def count(text: str) -> int:
        return len(text) if text != "lie" else "three"  # type: ignore[return-value]

    tool = Tool.from_function(count)
    assert tool.call(text="abc", validate_output=True) == 3
    assert tool.call(text="lie") == "three"  # not validated unless asked
    with pytest.raises(ToolError, match="'count' returned a value that does not match"):
        tool.call(text="lie", validate_output=True)


async def test_validate_output_on_acall_and_without_schema() -> None:
    def untyped(x: int):
        return x

    with pytest.raises(ToolError, match="has no output_schema"):
        await Tool.from_function(untyped).acall(x=1, validate_output=True)
    assert await Tool.from_function(multiply).acall(a=2, validate_output=True) == 4


@pytest.mark.parametrize(
    "dumps,loads", [(pickle.dumps, pickle.loads), (cloudpickle.dumps, cloudpickle.loads)]
)
def test_tools_from_module_functions_pickle(dumps, loads) -> None:
    tool = Tool.from_function(multiply)
    copy = loads(dumps(tool))
    assert copy == tool
    assert copy.call(a=7) == 14
    assert copy.for_openai_completions() == tool.for_openai_completions()
    assert loads(dumps(Tool.from_function(slow_upper))).call(text="x") == "X"
