"""Agent loops on the driver against the real mock provider, through the real engine."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from deluge_ray.agents._loop import (
    run_agent_loop,
    run_agent_loop_sync,
    start_agent_loop_nowait,
    wait_for_agent_loop,
)
from deluge_ray.errors import ConfigurationError, ToolError
from deluge_ray.mock import Reply, RequestView, ToolCallReply
from deluge_ray.prompt import Conversation, Image, ToolResult
from deluge_ray.tool import Tool

PNG_1X1 = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="

FORMATS = [
    pytest.param("gpt-4.1-mini", False, id="openai-chat"),
    pytest.param("gpt-4.1-mini", True, id="openai-responses"),
    pytest.param("claude-4.5-haiku", False, id="anthropic"),
]


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


ADD = Tool.from_function(add)


def _tool_results(conv: Conversation) -> list[ToolResult]:
    return [r for m in conv.messages for r in m.tool_results]


@pytest.mark.parametrize(("model", "responses_api"), FORMATS)
async def test_multi_round_loop_reaches_final_answer(mock, make_client, model, responses_api):
    mock.script(
        "*",
        [
            Reply.tool_call("add", {"a": 1, "b": 2}),
            Reply.tool_call("add", {"a": 3, "b": 4}),
            "The sums are 3 and 7.",
        ],
    )
    client = make_client(model, use_responses_api=responses_api)
    original = Conversation().user("Add 1+2, then 3+4.")
    conv, resp = await run_agent_loop(client, original, tools=[ADD], max_rounds=5)

    assert resp.completion == "The sums are 3 and 7."
    assert resp.loop_stop_reason == "no_tool_calls" and resp.agent_rounds == 3
    assert [m.role for m in conv.messages] == ["user", "assistant", "tool"] * 1 + [
        "assistant",
        "tool",
        "assistant",
    ]
    assert [r.result for r in _tool_results(conv)] == ["3", "7"]
    assert len(original.messages) == 1  # the caller's conversation is untouched
    assert mock.stats()["requests"] == 3


async def test_tool_calls_of_one_round_run_concurrently(mock, make_client):
    barrier = threading.Barrier(3, timeout=20)
    intervals: list[tuple[float, float]] = []

    def slow(tag: str) -> str:
        """Record when the call starts and ends; meet the other calls in between."""
        start = time.monotonic()
        barrier.wait()  # only passes when all three calls are running at once
        intervals.append((start, time.monotonic()))
        return f"done {tag}"

    mock.script(
        "*",
        [
            Reply.tool_calls([("slow", {"tag": t}) for t in "abc"]),
            "all done",
        ],
    )
    client = make_client()
    conv, resp = await run_agent_loop(
        client, Conversation().user("go"), tools=[Tool.from_function(slow)]
    )
    assert resp.completion == "all done", resp.error_message
    assert sorted(r.result for r in _tool_results(conv)) == ["done a", "done b", "done c"]
    assert len(intervals) == 3
    latest_start = max(s for s, _ in intervals)
    earliest_end = min(e for _, e in intervals)
    assert latest_start <= earliest_end  # every interval overlaps every other


async def test_async_tools_overlap_too(mock, make_client):
    intervals: list[tuple[float, float]] = []
    started = 0
    all_started = asyncio.Event()

    async def wait_all(tag: str) -> str:
        """Async tool: returns once both calls have started."""
        nonlocal started
        start = time.monotonic()
        started += 1
        if started == 2:
            all_started.set()
        await asyncio.wait_for(all_started.wait(), 20)
        intervals.append((start, time.monotonic()))
        return tag

    mock.script(
        "*", [Reply.tool_calls([("wait_all", {"tag": "x"}), ("wait_all", {"tag": "y"})]), "ok"]
    )
    client = make_client()
    _, resp = await run_agent_loop(
        client, Conversation().user("go"), tools=[Tool.from_function(wait_all)]
    )
    assert resp.completion == "ok"
    assert max(s for s, _ in intervals) <= min(e for _, e in intervals)


async def test_raising_tool_and_unknown_tool_are_told_to_the_model(mock, make_client):
    def explode(reason: str) -> str:
        """Always fails."""
        raise ValueError(f"boom: {reason}")

    seen: list[list[str]] = []

    def script(view: RequestView) -> Reply | str:
        if not view.has_tool_result:
            return Reply.tool_calls(
                [("explode", {"reason": "test"}), ("nope", {}), ("add", {"a": 1})]
            )
        seen.append([str(r.get("content")) for r in view.messages[-1].tool_results])
        return "recovered"

    mock.script("*", script)
    client = make_client()
    conv, resp = await run_agent_loop(
        client, "try things", tools=[Tool.from_function(explode), ADD]
    )
    assert resp.completion == "recovered" and resp.loop_stop_reason == "no_tool_calls"
    texts = [r.result for r in _tool_results(conv)]
    assert texts[0] == "Error: ValueError: boom: test"
    assert "no tool named 'nope'" in texts[1] and "add, explode" in texts[1]
    assert "missing required argument" in texts[2] and texts[2].startswith("Error: ToolError")
    assert len(seen) == 1 and "boom: test" in seen[0][0]  # the model really received them


async def test_max_rounds_reached_stops_and_says_so(mock, make_client):
    mock.script("*", lambda view: Reply.tool_call("add", {"a": 1, "b": 1}))
    client = make_client()
    conv, resp = await run_agent_loop(client, "loop forever", tools=[ADD], max_rounds=2)
    assert resp.loop_stop_reason == "max_rounds" and resp.agent_rounds == 2
    assert not resp.is_error
    # Two model calls; the second reply's tool call was not run.
    assert mock.stats()["requests"] == 2
    assert [m.role for m in conv.messages] == ["user", "assistant", "tool", "assistant"]
    assert conv.messages[-1].tool_calls[0].name == "add"


@pytest.mark.parametrize(("model", "responses_api"), FORMATS)
async def test_dict_list_and_image_results_are_passed_back(mock, make_client, model, responses_api):
    def weather(city: str) -> dict:
        """Structured weather."""
        return {"city": city, "temperature_c": 21}

    def cities() -> list:
        """A JSON list."""
        return ["Oslo", "Lima"]

    def picture() -> Image:
        """An image."""
        return Image(PNG_1X1, media_type="image/png")

    mock.script(
        "*",
        [
            Reply.tool_calls(
                [
                    ToolCallReply("weather", {"city": "Oslo"}),
                    ToolCallReply("cities", {}),
                    ToolCallReply("picture", {}),
                ]
            ),
            "seen it all",
        ],
    )
    client = make_client(model, use_responses_api=responses_api)
    tools = [Tool.from_function(f) for f in (weather, cities, picture)]
    conv, resp = await run_agent_loop(client, "look", tools=tools)
    assert resp.completion == "seen it all", resp.error_message
    results = [r.result for r in _tool_results(conv)]
    assert results[0] == {"city": "Oslo", "temperature_c": 21}
    assert results[1] == ["Oslo", "Lima"]
    assert isinstance(results[2], list) and isinstance(results[2][0], Image)


async def test_task_api_and_sync_wrapper(mock, make_client):
    mock.script(
        "*",
        lambda view: "fine" if view.has_tool_result else Reply.tool_call("add", {"a": 2, "b": 2}),
    )
    client = make_client()
    ids = [start_agent_loop_nowait(client, f"q{i}", tools=[ADD]) for i in range(3)]
    results = [await wait_for_agent_loop(client, i) for i in ids]
    assert [r.completion for _, r in results] == ["fine"] * 3
    assert all(_tool_results(c)[0].result == "4" for c, _ in results)


def test_run_agent_loop_sync_and_nowait_without_event_loop(mock, make_client):
    mock.script(
        "*",
        lambda view: (
            "sync ok" if view.has_tool_result else Reply.tool_call("add", {"a": 5, "b": 5})
        ),
    )
    client = make_client()
    conv, resp = run_agent_loop_sync(client, "hi", tools=[ADD])
    assert resp.completion == "sync ok" and _tool_results(conv)[0].result == "10"
    task_id = start_agent_loop_nowait(client, "again", tools=[ADD])  # no running loop here
    _, resp2 = asyncio.run(wait_for_agent_loop(client, task_id))
    assert resp2.completion == "sync ok"


async def test_bad_input_is_refused_clearly(mock, make_client):
    client = make_client()
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ConfigurationError, match="max_rounds must be an integer >= 1"):
            await run_agent_loop(client, "x", tools=[ADD], max_rounds=bad)
    with pytest.raises(ConfigurationError, match="max_rounds"):
        start_agent_loop_nowait(client, "x", max_rounds=0)
    with pytest.raises(ConfigurationError, match="wrap a single tool in a list"):
        await run_agent_loop(client, "x", tools=ADD)
    with pytest.raises(ConfigurationError, match=r"tools\[1\] is a str"):
        await run_agent_loop(client, "x", tools=[ADD, "add"])
    with pytest.raises(ConfigurationError, match="two tools are named 'add'"):
        await run_agent_loop(client, "x", tools=[ADD, Tool.from_function(add)])
    # Bad tool definitions are refused by Tool itself, before any loop starts.
    with pytest.raises(ToolError, match=r"Invalid tool name .bad name!.* Try .bad_name_."):
        Tool(name="bad name!", description="x", parameters={}, run=add)
    with pytest.raises(ToolError, match="object"):
        Tool(name="ok", description="x", parameters={"type": "string"}, run=add)
    assert mock.stats()["requests"] == 0
