"""One pool of ProviderCaller actors per driver, not per client (issue 15, item 3): twelve
clients in one driver start no more callers than one would, and the callers close when the
last client closes."""

from __future__ import annotations

import asyncio
import time

import pytest
import ray
from ray.exceptions import RayActorError

from deluge_ray import LLMClient
from deluge_ray.client._driver_callers import acquire_driver_callers, release_driver_callers
from deluge_ray.client._options import default_num_callers
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

MODEL = "gpt-4.1-mini"


@pytest.fixture
def mock(ray_cluster):
    with MockProvider(MockConfig(latency=Latency.fixed(20))) as server, use_mock(server):
        yield server


def started_so_far() -> int:
    """Callers this driver has started up to now (0 when none are open)."""
    callers = acquire_driver_callers()
    try:
        return callers.created
    finally:
        release_driver_callers(callers)


def is_dead(caller, attempts: int = 1) -> bool:
    """Whether calls to ``caller`` fail as to a dead actor (``ray.kill`` is asynchronous:
    a call may still reach the process for a moment, hence ``attempts``)."""
    for _ in range(attempts):
        try:
            ray.get(caller.ping.remote(), timeout=60)
        except RayActorError:
            return True
        time.sleep(0.2)
    return False


def new_client() -> LLMClient:
    return LLMClient(
        MODEL,
        max_requests_per_minute=100_000,
        max_tokens_per_minute=100_000_000,
        progress="manual",
    )


async def test_twelve_clients_share_one_pool_that_the_last_close_ends(mock) -> None:
    before = started_so_far()
    clients = [new_client() for _ in range(12)]
    results = await asyncio.gather(
        *(
            c.process_prompts_async([f"client {i} prompt {j}" for j in range(10)])
            for i, c in enumerate(clients)
        )
    )
    assert all(not r.is_error for rs in results for r in rs)
    assert mock.stats()["requests"] == 120
    pools = [c._engine.pool for c in clients]
    callers = pools[0].live_callers()
    assert all(p.live_callers() == callers for p in pools)
    one_client = default_num_callers(clients[0].max_concurrent_requests)
    assert 1 <= len(callers) <= one_client
    assert pools[0].callers_started - before <= one_client

    for client in clients[:-1]:
        client.shutdown()
    assert not is_dead(callers[0])  # the last client still uses them
    clients[-1].shutdown()
    assert all(is_dead(c, attempts=100) for c in callers)


def test_a_replacement_caller_skips_the_node_of_the_caller_it_replaces(monkeypatch) -> None:
    """That node may be gone while Ray still counts it alive: a caller sent there would
    wait for Ray's health checks before starting anywhere."""
    from deluge_ray.client import _driver_callers

    node_ids = iter(["a" * 56, "b" * 56, "c" * 56])
    avoided: list[tuple[str, ...]] = []

    def next_node(avoid=()):
        avoided.append(tuple(avoid))
        return next(node_ids)

    sent_to: list[str] = []

    class Actor:  # the shape of a Ray actor class, recording where it was sent
        def options(self, scheduling_strategy, memory):
            sent_to.append(scheduling_strategy.node_id)
            return self

        def remote(self, caller_id):
            return object()

    class Ray:
        def kill(self, actor):
            pass

    monkeypatch.setattr(_driver_callers, "next_spread_node", next_node)
    callers = _driver_callers.DriverCallers(Ray(), Actor())
    callers.want(size=2, initial=2)
    assert callers.replace(callers.callers[0])
    assert avoided == [(), (), ("a" * 56,)]
    assert sent_to == ["a" * 56, "b" * 56, "c" * 56]
