"""LLMClient methods that delegate to other layers, exercised through the client itself:
streaming on the shared limiter, background mode in the callers, agent loops, caches
making a second run free, tools whose callables cannot pickle, and the tracker's total."""

from __future__ import annotations

import threading

import pytest

from deluge_ray import APIResponse, Conversation, Tool
from deluge_ray.cache import DistributedDictCache, LevelDBCache, SqliteCache
from deluge_ray.client._tools import count_tool_tokens, wire_tools
from deluge_ray.mock import MockConfig, MockProvider, Reply, use_mock

from .conftest import MINI_WIRE


def _limiter_stats(client) -> dict:
    import ray

    route = client._routes[0]
    return ray.get(route.limiter.stats.remote())


async def test_stream_prints_chunks_and_takes_capacity_from_the_shared_limiter(
    mock, make_client, capsys
):
    mock.script(MINI_WIRE, ["one two three four five"])
    client = make_client()
    final = await client.stream("Count to five")
    out = capsys.readouterr().out
    assert "one two three four five" in out
    assert final.completion == "one two three four five"
    assert final.usage is not None and final.usage.output_tokens > 0
    stats = _limiter_stats(client)
    assert stats["lease_calls"] >= 1, stats


async def test_background_mode_polls_the_job_to_completion(mock, make_client):
    mock.script("*", ["done in the background"])
    client = make_client(use_responses_api=True, background=True)
    (response,) = await client.process_prompts_async(["long job"], show_progress=False)
    assert not response.is_error, response.error_message
    # A queued job parses to no content: text here means the caller polled it to the end.
    assert response.completion == "done in the background"


async def test_background_job_past_request_timeout_is_cancelled_and_reported(make_client):
    with MockProvider(MockConfig(batch_seconds=60)) as slow, use_mock(slow):
        client = make_client(use_responses_api=True, background=True, request_timeout=1)
        (response,) = await client.process_prompts_async(["never ends"], show_progress=False)
        assert response.is_error
        assert "cancel" in response.error_message


async def test_agent_loop_methods_are_on_the_client(mock, make_client):
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    mock.script(MINI_WIRE, [Reply.tool_call("add", {"a": 2, "b": 3}), "the sum is 5"])
    client = make_client()
    conversation, response = await client.run_agent_loop(
        Conversation().user("add 2 and 3"), tools=[Tool.from_function(add)]
    )
    assert response.completion == "the sum is 5"
    results = [r for m in conversation.messages for r in m.tool_results]
    assert [r.result for r in results] == ["5"] or [r.result for r in results] == [5]


async def test_tools_whose_callable_cannot_pickle_are_declared_without_it(mock, make_client):
    lock = threading.Lock()

    def guarded(x: int) -> int:
        """Uses a lock, which cannot be pickled."""
        with lock:
            return x

    tool = Tool.from_function(guarded)
    mock.script(MINI_WIRE, ["ok"])
    client = make_client()
    (response,) = await client.process_prompts_async(["hi"], tools=[tool], show_progress=False)
    assert not response.is_error, response.error_message
    assert tool.run is guarded  # the caller's tool is untouched


def test_tool_declarations_drop_the_callable_and_count_their_tokens() -> None:
    def f(city: str) -> str:
        """Weather for a city."""
        return city

    tool = Tool.from_function(f)
    (declared,) = wire_tools([tool], expand_mcp=False)
    assert declared.run is None and declared.name == "f"
    assert count_tool_tokens([declared]) > 0
    assert wire_tools([], expand_mcp=False) is None


async def test_open_with_a_total_counts_each_prompt_once(mock, make_client):
    client = make_client()
    client.open(total=3, show_progress=False)
    ids = [client.start_nowait(f"q{i}") for i in range(3)]
    await client.wait_for_all(ids)
    snap = client.tracker.snapshot()
    assert (snap.total, snap.succeeded) == (3, 3)
    client.close()


def _make_cache(kind, tmp_path):
    if kind == "sqlite":
        return SqliteCache(str(tmp_path / "c.sqlite"))
    if kind == "leveldb":
        return LevelDBCache(str(tmp_path / "ldb"))
    if kind == "dict":
        return DistributedDictCache({})
    from deluge_ray.actors.cache_actor import get_cache_actor

    handle = get_cache_actor(
        f"second-run-{tmp_path.name}", path=str(tmp_path / "a.sqlite"), detached=False
    )
    return DistributedDictCache(handle)


@pytest.mark.parametrize("kind", ["sqlite", "leveldb", "dict", "actor"])
async def test_second_run_of_a_batch_makes_zero_http_requests(
    kind, mock, make_client, tmp_path, ray_cluster
):
    cache = _make_cache(kind, tmp_path)
    prompts = [f"question {i}" for i in range(12)]
    first = await make_client(cache=cache).process_prompts_async(prompts, show_progress=False)
    assert all(not r.is_error for r in first)
    sent = mock.stats()["requests"]
    assert sent == len(prompts)
    again = make_client(cache=cache)
    again.open(show_progress=False)
    second = await again.process_prompts_async(prompts, show_progress=False)
    totals = again.tracker.snapshot()
    again.close()
    assert mock.stats()["requests"] == sent, "the second run reached the provider"
    assert all(isinstance(r, APIResponse) and r.local_cache_hit for r in second)
    assert [r.completion for r in second] == [r.completion for r in first]
    assert totals.cost == 0 and totals.local_cache_hits == len(prompts)
