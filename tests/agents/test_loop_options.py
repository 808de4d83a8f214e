"""lm-deluge 0.0.168's agent-loop options: callbacks, final-turn warning, request options,
the client cache in swarms, and SubAgent actors kept between swarms. Against the mock, with
lm-deluge itself as the oracle for the callback sequence."""

from __future__ import annotations

import os
import re

import lm_deluge
import pytest

from deluge_ray.agents._options import FINAL_TURN_WARNING
from deluge_ray.cache import SqliteCache
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Reply, RequestView
from deluge_ray.tool import Tool
from tests.agents.conftest import lm_deluge_on
from tests.support.clients import client_builder


def test_default_actor_count_follows_busy_loops_and_cluster_cpus():
    from deluge_ray.agents._swarm import _default_actors

    assert _default_actors(1000, 1000, cluster_cpus=2) == 2  # not 5 processes on 2 cores
    assert _default_actors(1000, 10, cluster_cpus=64) == 1  # only 10 run at once
    assert _default_actors(10_000, 10_000, cluster_cpus=64) == 8


@pytest.fixture(scope="module")
def client(ray_cluster, tmp_path_factory):
    """One client (with a cache) for the module: its SubAgent actor starts once and every
    swarm here reuses it, which is itself under test. Prompts differ between tests, so
    no test is answered from another's cache entries."""
    builder = client_builder(cache=SqliteCache(str(tmp_path_factory.mktemp("swarm") / "c.sqlite")))
    yield next(builder)()
    next(builder, None)  # shuts the client down


def square(x: int) -> int:
    """Square a number."""
    return x * x


def whereami() -> int:
    """The process the tool runs in."""
    return os.getpid()


def two_squares(view: RequestView) -> Reply | str:
    """Squares n twice, then answers (3 model calls per loop)."""
    n = int(re.search(r"loop (\d+)", view.messages[0].text).group(1))
    results = [r for m in view.messages for r in m.tool_results]
    if len(results) < 2:
        return Reply.tool_call("square", {"x": int(results[-1]["content"]) if results else n})
    return f"loop {n}: {results[1]['content']}"


def _recorder(events: list):
    async def on_message(message):
        events.append(("message", message.role))

    async def on_round_complete(conversation, response, round_index):
        events.append(("round", round_index, conversation.messages[-1].role, response.is_error))

    return on_message, on_round_complete


async def test_callbacks_run_on_the_driver_in_lm_deluge_order(mock, client, monkeypatch, capsys):
    mock.script("*", two_squares)
    tool = Tool.from_function(square)
    swarm_events: dict[int, list] = {0: [], 1: []}
    pids = set()
    order: list = []

    async def swarm_message(message):
        pids.add(os.getpid())
        order.append(("message", message.role))

    async def swarm_round(conversation, response, round_index):
        n = int(re.search(r"loop (\d+)", conversation.messages[0].completion).group(1))
        swarm_events[n].append(("round", round_index, conversation.messages[-1].role))

    results = await client.process_agent_loops_async(
        ["callbacks loop 0", "callbacks loop 1"],
        tools=[tool],
        max_rounds=5,
        on_message=swarm_message,
        on_round_complete=swarm_round,
        verbose=True,
        show_progress=False,
    )
    assert pids == {os.getpid()}  # on the driver, not in the actors
    assert [r.completion for _, r in results] == ["loop 0: 0", "loop 1: 1"]
    for n in (0, 1):  # in round order within each loop
        assert swarm_events[n] == [("round", i, "assistant") for i in range(3)]
    # Per loop: reply, tool message, reply, tool message, reply.
    assert order.count(("message", "assistant")) == 6 and order.count(("message", "tool")) == 4
    printed = capsys.readouterr().out
    assert printed.count("Tool calls: square(x=") == 4 and printed.count("  → square: ") == 4
    assert printed.count("[Round 3] Assistant: loop ") == 2

    # The oracle, on the same mock: the same callback sequence for one loop, on the driver.
    oracle = lm_deluge_on(mock, monkeypatch, "agents-oracle-on-mock")
    theirs: list = []
    their_message, their_round = _recorder(theirs)
    await oracle.run_agent_loop(
        "driver loop 1",
        tools=[lm_deluge.Tool.from_function(square)],
        on_message=their_message,
        on_round_complete=their_round,
    )
    ours: list = []
    our_message, our_round = _recorder(ours)
    _conv, resp = await client.run_agent_loop(
        "driver loop 1", tools=[tool], on_message=our_message, on_round_complete=our_round
    )
    assert ours == theirs and len(ours) == 8
    assert resp.completion == "loop 1: 1"


@pytest.mark.parametrize("mode", ["retain", "ephemeral"])
async def test_final_turn_warning(mock, client, mode):
    seen_last: list[str] = []

    def always_a_tool(view: RequestView) -> Reply:
        seen_last.append(view.messages[-1].text or "")
        return Reply.tool_call("square", {"x": 2})

    mock.script("*", always_a_tool)
    results = await client.process_agent_loops_async(
        [f"warning {mode} loop 0"],
        tools=[Tool.from_function(square)],
        max_rounds=2,
        max_turns_warning=mode,
        show_progress=False,
    )
    conv, resp = results[0]
    assert resp.loop_stop_reason == "max_rounds"
    assert seen_last[-1] == FINAL_TURN_WARNING and FINAL_TURN_WARNING not in seen_last[:-1]
    kept = [m.completion for m in conv.messages if m.role == "user"]
    assert (FINAL_TURN_WARNING in kept) == (mode == "retain")


async def test_unsupported_options_say_what_to_do(client):
    cases = [
        ({"skills": ["x"]}, "skills="),
        ({"on_text_delta": "print"}, "on_text_delta must be a function"),
        ({"max_turns_warning": "always"}, "max_turns_warning must be"),
        ({"on_message": "print"}, "on_message must be a function"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ConfigurationError, match=message):
            await client.process_agent_loops_async(["a"], show_progress=False, **kwargs)
    with pytest.raises(ConfigurationError, match="prefer_model="):
        await client.run_agent_loop("a", prefer_model="last")


async def test_a_raising_callback_fails_only_its_loop(mock, client):
    mock.script("*", two_squares)

    async def explode_on_loop_1(conversation, response, round_index):
        if "raising loop 1" in conversation.messages[0].completion:
            raise RuntimeError("callback said no")

    results = await client.process_agent_loops_async(
        ["raising loop 0", "raising loop 1"],
        tools=[Tool.from_function(square)],
        on_round_complete=explode_on_loop_1,
        show_progress=False,
    )
    assert results[0][1].completion == "loop 0: 0"
    assert results[1][1].is_error and results[1][1].error_message == "callback said no"


async def test_rerun_swarm_is_answered_from_the_client_cache(mock, client):
    mock.script("*", two_squares)
    prompts = [f"cached loop {i}" for i in range(4)]
    kwargs = {"tools": [Tool.from_function(square)], "show_progress": False}
    first = await client.process_agent_loops_async(prompts, **kwargs)
    assert mock.stats()["requests"] == 12  # 3 model calls per loop
    again = await client.process_agent_loops_async(prompts, **kwargs)
    assert mock.stats()["requests"] == 12  # every round replayed from the cache
    assert [r.completion for _, r in again] == [r.completion for _, r in first]
    assert all(r.local_cache_hit for _, r in again)
    assert [len(c.messages) for c, _ in again] == [len(c.messages) for c, _ in first]


async def hangs() -> str:
    """Never answers."""
    import asyncio

    await asyncio.Event().wait()
    return "unreachable"


async def test_a_tool_past_tool_timeout_is_an_error_the_model_sees(mock, client):
    def script(view: RequestView) -> Reply | str:
        results = [r for m in view.messages for r in m.tool_results]
        return f"told: {results[0]['content']}" if results else Reply.tool_call("hangs", {})

    mock.script("*", script)
    results = await client.process_agent_loops_async(
        ["timeout loop 0"],
        tools=[Tool.from_function(hangs)],
        tool_timeout=0.05,
        show_progress=False,
    )
    _conv, resp = results[0]
    assert resp.loop_stop_reason == "no_tool_calls"
    assert "did not answer within tool_timeout=0.05 s" in resp.completion
    with pytest.raises(ConfigurationError, match="tool_timeout must be"):
        await client.run_agent_loop("a", tool_timeout=0)


async def test_swarms_of_one_client_reuse_its_subagent_actors(mock, client, ray_cluster):
    mock.script("*", lambda view: "ok" if view.has_tool_result else Reply.tool_call("whereami", {}))
    tool = Tool.from_function(whereami)

    async def actor_pids(run: int) -> set[int]:
        prompts = [f"run {run} a", f"run {run} b"]  # distinct: not answered from the cache
        results = await client.process_agent_loops_async(
            prompts, tools=[tool], max_rounds=2, num_actors=1, show_progress=False
        )
        return {int(conv.messages[2].tool_results[0].result) for conv, _ in results}

    first, second = await actor_pids(1), await actor_pids(2)
    assert first == second and os.getpid() not in first
    fleet = client._subagent_fleet
    assert fleet is not None and fleet.idle == 1
    # An idle actor that died is replaced, not handed the next swarm's loops.
    idle = fleet.take()
    ray_cluster.kill(idle.handle, no_restart=True)
    fleet.give_back(idle)
    third = await actor_pids(3)
    assert third != first and fleet.idle == 1
    client.shutdown()  # kills the idle actor (the client starts again when next used)
    assert fleet.idle == 0 and client._subagent_fleet is None
