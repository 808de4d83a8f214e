"""Swarms of agent loops on SubAgent actors, against the real mock provider."""

from __future__ import annotations

import os
import re
import threading

import pytest
import ray

from deluge_ray.agents._pool import CheckpointInfo
from deluge_ray.agents._swarm import process_agent_loops_async
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Reply, RequestView
from deluge_ray.tool import Tool


def square(x: int) -> int:
    """Square a number."""
    return x * x


def whereami() -> dict:
    """Report the process the tool runs in."""
    return {"pid": os.getpid()}


def three_round_script(view: RequestView) -> Reply | str:
    """Round 1 squares n, round 2 squares the result, round 3 answers."""
    n = int(re.search(r"loop (\d+)", view.messages[0].text).group(1))
    results = [r for m in view.messages for r in m.tool_results]
    if len(results) == 0:
        return Reply.tool_call("square", {"x": n})
    if len(results) == 1:
        return Reply.tool_call("square", {"x": int(results[0]["content"])})
    return f"loop {n}: {results[1]['content']}"


def _check_in_order(results, n: int) -> None:
    assert len(results) == n
    for i, (conv, resp) in enumerate(results):
        assert resp.completion == f"loop {i}: {i**4}", resp.error_message
        assert resp.loop_stop_reason == "no_tool_calls" and resp.agent_rounds == 3
        # user, (assistant, tool) x 2, assistant: no round lost or repeated by a restart
        assert [m.role for m in conv.messages] == ["user"] + ["assistant", "tool"] * 2 + [
            "assistant"
        ]


async def test_swarm_of_200_loops_of_3_rounds_in_order(mock, make_client):
    mock.script("*", three_round_script)
    client = make_client()
    results = await process_agent_loops_async(
        client,
        [f"loop {i}" for i in range(200)],
        tools=[Tool.from_function(square)],
        max_rounds=3,
        max_concurrent_agents=200,
        num_actors=2,
    )
    _check_in_order(results, 200)
    assert mock.stats()["requests"] == 600


async def test_killed_subagent_actor_loses_no_loop(mock, make_client, monkeypatch):
    from deluge_ray.agents import _pool, _swarm

    killed: list[int] = []
    kill_done = threading.Event()

    def answer_after_the_kill(view: RequestView) -> Reply | str:
        # A final round waits (on the mock's thread) for the kill, so the killed actor
        # surely still has loops unfinished; however slowly the driver reads its events.
        if sum(len(m.tool_results) for m in view.messages) == 2:
            kill_done.wait(timeout=60)
        return three_round_script(view)

    mock.script("*", answer_after_the_kill)
    client = make_client()
    pools: list[_pool.SubAgentPool] = []

    class RecordingPool(_pool.SubAgentPool):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            pools.append(self)

    monkeypatch.setattr(_swarm, "SubAgentPool", RecordingPool)

    def kill_on_first_checkpoint(info: CheckpointInfo) -> None:
        # Runs on the pool's thread as a checkpoint arrives: the actor that sent it still
        # has that loop (and most of its others) unfinished, so they must restart elsewhere.
        if not killed:
            killed.append(info.actor_index)
            ray.kill(info.actor, no_restart=True)
            kill_done.set()

    results = await process_agent_loops_async(
        client,
        [f"loop {i}" for i in range(100)],
        tools=[Tool.from_function(square)],
        max_rounds=3,
        max_concurrent_agents=100,
        num_actors=2,
        on_checkpoint=kill_on_first_checkpoint,
    )
    assert killed, "no checkpoint arrived"
    _check_in_order(results, 100)
    assert pools[0].restarted_loops >= 1


async def test_tools_run_in_the_actors(mock, make_client):
    mock.script("*", lambda view: "ok" if view.has_tool_result else Reply.tool_call("whereami", {}))
    client = make_client()
    results = await process_agent_loops_async(
        client, ["a", "b"], tools=[Tool.from_function(whereami)], max_rounds=2, num_actors=1
    )
    pids = {conv.messages[2].tool_results[0].result["pid"] for conv, _ in results}
    assert len(pids) == 1 and os.getpid() not in pids


async def test_unpicklable_tool_and_bad_arguments_are_refused(mock, make_client):
    client = make_client()
    lock = threading.Lock()

    def locked() -> str:
        """Holds a lock, which cannot be pickled."""
        with lock:
            return "x"

    with pytest.raises(ConfigurationError, match="tools must pickle"):
        await process_agent_loops_async(
            client, ["a"], tools=[Tool.from_function(locked)], num_actors=1
        )
    with pytest.raises(ConfigurationError, match="max_rounds"):
        await process_agent_loops_async(client, ["a"], max_rounds=0)
    with pytest.raises(ConfigurationError, match="num_actors"):
        await process_agent_loops_async(client, ["a"], num_actors=0)


async def test_swarm_applies_postprocess_and_counts_every_model_call(mock, make_client):
    mock.script("*", three_round_script)
    seen: list[int] = []

    def tag(response):  # a closure: runs on the driver, never pickled to an actor
        seen.append(response.id)
        response.content.text_parts[0].text += " (checked)"
        return response

    client = make_client(postprocess=tag)
    client.open(show_progress=False)
    results = await process_agent_loops_async(
        client,
        [f"loop {i}" for i in range(6)],
        tools=[Tool.from_function(square)],
        max_rounds=3,
        num_actors=2,
    )
    assert sorted(seen) == list(range(6))
    assert [r.completion for _, r in results] == [f"loop {i}: {i**4} (checked)" for i in range(6)]
    snap = client.tracker.snapshot()
    assert (snap.total, snap.completed, snap.failed) == (6, 6, 0)
    stats = mock.stats()
    assert snap.requests_sent == stats["requests"] == 18  # 3 model calls per loop
    # Every round's tokens, not only those of each loop's final answer.
    assert snap.input_tokens == stats["tokens_in"]
    assert snap.output_tokens == stats["tokens_out"]
    assert snap.cost > 0
    client.close()


async def test_shutdown_gives_the_kept_subagents_slots_back_at_once(mock, make_client, monkeypatch):
    # A key of its own: a limiter that only this client's actors lease from.
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-fleet-{os.getpid()}-{threading.get_ident()}")
    mock.script("*", three_round_script)
    client = make_client()
    results = await process_agent_loops_async(
        client, [f"loop {i}" for i in range(20)], tools=[Tool.from_function(square)], num_actors=2
    )
    _check_in_order(results, 20)
    limiter = client._routes[0].limiter
    client.shutdown()  # kills the SubAgents the client kept for its next swarm
    status = await limiter.status.remote()
    # Nothing of theirs is still held: a plain kill left their slots taken for 120 s.
    assert status.in_flight == 0, status
    ray.kill(limiter)
