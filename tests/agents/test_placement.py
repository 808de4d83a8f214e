"""Where a swarm's loops go: the least loaded SubAgent, and actors added mid-swarm."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from types import SimpleNamespace

import pytest
from ray.exceptions import ActorDiedError

from deluge_ray.agents._pool import SubAgentPool, _Slot, place
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Reply, RequestView
from deluge_ray.prompt import Conversation
from deluge_ray.tool import Tool


def square(x: int) -> int:
    """Square a number."""
    return x * x


def one_round_script(view: RequestView) -> Reply | str:
    n = int(re.search(r"loop (\d+)", view.messages[0].text).group(1))
    results = [r for m in view.messages for r in m.tool_results]
    return f"loop {n}: {results[0]['content']}" if results else Reply.tool_call("square", {"x": n})


def test_loops_go_to_the_least_loaded_actor_and_ties_to_the_least_used():
    busy, idle, fresh = (
        _Slot(0, None, "busy", load=3),
        _Slot(1, None, "idle", placed=9),
        _Slot(2, None, "fresh"),
    )
    chosen = [slot.caller_id for slot in place(6, [busy, idle, fresh])]
    # fresh and idle tie on load; fresh was given fewer loops, so it goes first.
    assert chosen == ["fresh", "idle", "fresh", "idle", "fresh", "idle"]
    assert (busy.load, idle.load, fresh.load) == (3, 3, 3)
    assert (idle.placed, fresh.placed) == (12, 3)


async def test_an_actor_added_mid_swarm_takes_new_loops(mock, make_client):
    mock.script("*", one_round_script)
    seen: dict[int, int] = {}  # loop index -> the actor index its checkpoint came from
    pool = SubAgentPool(
        make_client(),
        tools=[Tool.from_function(square)],
        max_rounds=2,
        num_actors=1,
        max_concurrent_agents=8,
        on_checkpoint=lambda info: seen.setdefault(info.index, info.actor_index),
    )
    try:
        first = pool.start_loops([Conversation().user(f"loop {i}") for i in range(3)])
        await asyncio.gather(*(asyncio.wrap_future(f) for f in first))
        assert len(pool.add_actors(1)) == 1 and len(pool.actors) == 2
        later = pool.start_loops([Conversation().user(f"loop {i}") for i in range(3, 6)])
        answers = [r.completion for _, r in await asyncio.gather(*map(asyncio.wrap_future, later))]
        assert answers == [f"loop {i}: {i * i}" for i in range(3, 6)]
        assert {seen[i] for i in range(3)} == {0}
        # The new actor (idle, never used) gets the first of the later loops and its share.
        assert seen[3] == 1 and sorted(seen[i] for i in range(3, 6)) == [0, 1, 1]
        with pytest.raises(ConfigurationError, match="count must be a positive integer"):
            pool.add_actors(0)
    finally:
        pool.close()


def _node_died() -> ActorDiedError:
    error = ActorDiedError()
    error.error_msg = "The actor died because its node has died. Node Id: 3f2a"
    return error


class _StartsOnDeadNodes:
    """Stands in for the SubAgent class: its first ``dead`` actors land on a node that
    died before they ran (their first call fails as Ray reports it), the rest are real."""

    def __init__(self, real: type, dead: int, error: Callable[[], Exception]) -> None:
        self.real, self.dead, self.error, self.started = real, dead, error, 0

    def options(self, **options: object) -> _StartsOnDeadNodes:
        self._options = options
        return self

    def remote(self, caller_id: str) -> object:
        self.started += 1
        if self.started > self.dead:
            return self.real.options(**self._options).remote(caller_id)
        error = self.error

        async def fail(*_: object) -> None:
            raise error()

        return SimpleNamespace(configure=SimpleNamespace(remote=fail))


def test_a_subagent_placed_on_a_dead_node_is_started_again(mock, make_client, monkeypatch):
    from deluge_ray.actors import sub_agent

    mock.script("*", one_round_script)
    starter = _StartsOnDeadNodes(sub_agent.SubAgent, dead=2, error=_node_died)
    monkeypatch.setattr(sub_agent, "SubAgent", starter)
    pool = SubAgentPool(make_client(), tools=[Tool.from_function(square)], max_rounds=2)
    try:
        [(_, response)] = [
            f.result(timeout=60) for f in pool.start_loops([Conversation().user("loop 4")])
        ]
    finally:
        pool.close()
    assert response.completion == "loop 4: 16"
    assert starter.started == 3 and len(pool.actors) == 1


@pytest.mark.parametrize(
    "dead, error, expected",
    [
        (3, _node_died, "node has died"),  # dead nodes again and again: give up, say why
        (1, lambda: ActorDiedError(), "died unexpectedly"),  # its own crash: not retried
    ],
)
def test_a_subagent_that_cannot_start_fails_the_swarm_with_rays_error(
    dead, error, expected, mock, make_client, monkeypatch
):
    from deluge_ray.actors import sub_agent

    starter = _StartsOnDeadNodes(sub_agent.SubAgent, dead=dead, error=error)
    monkeypatch.setattr(sub_agent, "SubAgent", starter)
    pool = SubAgentPool(make_client(), tools=[Tool.from_function(square)], max_rounds=2)
    try:
        with pytest.raises(ActorDiedError, match=expected):
            pool.start()
    finally:
        pool.close()
    assert starter.started == dead
