"""Losing a worker node mid-batch loses no prompt and no agent loop (issue 16, items 1, 2).

One three-node cluster for the module (``conftest.py``); each test kills the worker that
hosts the actor under test with ``remove_node(allow_graceful=False)`` while a batch runs
against the mock provider, then adds a node in its place for the next test. Every result
must be a success: an actor lost with its node becomes a retry or a re-dispatch, never an
error result.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest

from deluge_ray import Conversation, LLMClient, Tool
from deluge_ray.actors.cache_actor import get_cache_actor
from deluge_ray.cache import DistributedDictCache
from deluge_ray.mock import Latency, Limits, MockConfig, MockProvider, Reply, RequestView, use_mock

from .conftest import CONTROL, Nodes, wait_until

RPM = 1800  # 30 requests/s shared by three callers on three nodes
RATE = RPM / 60


@pytest.fixture(scope="module")
def mock_server() -> Iterator[MockProvider]:
    # The provider allows a quarter more than the client paces at, with half a second of
    # burst: pacing at the limit never sees a 429; a restarted limiter that burst would.
    config = MockConfig(
        limits=Limits(rpm=RPM * 1.25, burst_seconds=0.5), latency=Latency.fixed(100)
    )
    with MockProvider(config) as server:
        yield server


@pytest.fixture
def mock(mock_server: MockProvider, monkeypatch: pytest.MonkeyPatch) -> Iterator[MockProvider]:
    mock_server.reset_stats()
    mock_server.clear_scripts()
    # A key of its own per test: a limiter of its own, and the mock's counts per key. Set
    # before use_mock, so monkeypatch (undone after use_mock) restores the key there was
    # before the test rather than the mock's placeholder: a key left in os.environ would
    # leak into every later test.
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-cluster-{uuid.uuid4().hex}")
    with use_mock(mock_server):
        yield mock_server


@pytest.fixture
def make_client() -> Iterator[Callable[..., LLMClient]]:
    clients: list[LLMClient] = []

    def build(**kwargs: Any) -> LLMClient:
        settings = {
            "progress": "manual",
            "num_callers": 3,
            "max_attempts": 5,
            "max_requests_per_minute": RPM,
            "max_tokens_per_minute": 100_000_000,
            **kwargs,
        }
        client = LLMClient("gpt-4.1-mini", **settings)
        clients.append(client)
        return client

    yield build
    for client in clients:
        client.shutdown()


def in_background(fn: Callable[[], Any]) -> tuple[ThreadPoolExecutor, Future]:
    """Run a batch on another thread: node loss must be caused from the main thread."""
    pool = ThreadPoolExecutor(max_workers=1)
    return pool, pool.submit(fn)


def finish(pool: ThreadPoolExecutor, batch: Future) -> Any:
    try:
        return batch.result(timeout=300)
    finally:
        pool.shutdown()


def assert_all_succeeded(responses: list[Any]) -> None:
    errors = [r.error_message for r in responses if r is None or r.is_error]
    assert not errors, f"{len(errors)} prompts failed, e.g. {errors[:2]}"


def prompts(n: int, tag: str) -> list[str]:
    return [f"{tag} prompt {i}: {uuid.uuid4().hex[:6]}" for i in range(n)]


def test_losing_the_limiters_node_loses_nothing_and_the_restarted_limiter_holds_the_limit(
    nodes: Nodes, mock: MockProvider, make_client, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray

    monkeypatch.setenv("DELUGE_RAY_CONTROL_NODE", f"resource:{CONTROL}")
    client = make_client()
    # 240 prompts (8 s at the rate): the kill lands a few seconds after the 30th request
    # (finding the limiter's node, removing it), and enough must remain after the restart
    # to show the rate coming back; with 120, some runs had 5 prompts left.
    pool, batch = in_background(lambda: client.process_prompts_sync(prompts(240, "lim")))
    wait_until(lambda: mock.stats()["requests"] >= 30, "30 requests before the node loss")
    limiter = ray.get_actor(client._routes[0].limiter_name, namespace="deluge_ray")
    lost = nodes.control
    assert nodes.node_of(limiter) == lost.node_id  # the override put it on a worker
    new = nodes.replace(lost)
    responses = finish(pool, batch)

    assert_all_succeeded(responses)
    stats = ray.get(limiter.stats.remote())
    assert stats["restarted"]  # it came back, on the node that replaced the lost one
    assert nodes.node_of(limiter) == new.node_id
    seen = mock.stats()
    # The limit held across the restart: no 429, no second above the rate plus the
    # provider's half-second burst (the old incarnation's leases and the new grants did
    # not add up), and the rate came back: some later second ran at 3/4 of it or more.
    assert seen["rate_limited"] == 0
    seconds = sorted(seen["per_second"], key=int)  # only seconds with traffic are listed
    per_second = [seen["per_second"][s] for s in seconds]
    assert max(per_second) <= RATE * 1.5
    # The outage is the longest stretch without traffic; after it, the rate came back.
    jumps = [int(b) - int(a) for a, b in itertools.pairwise(seconds)]
    after = jumps.index(max(jumps)) + 1
    assert max(per_second[after:]) >= 0.75 * RATE, list(zip(seconds, per_second, strict=True))


def test_losing_the_caches_node_loses_no_entry(
    nodes: Nodes, mock: MockProvider, make_client, tmp_path
) -> None:
    import ray

    # On shared storage (here every node shares this machine's disk), as a real cluster
    # needs it, so the actor restarted on another node reads the same file.
    handle = get_cache_actor(
        f"cluster-{uuid.uuid4().hex[:8]}",
        path=tmp_path / "cache.sqlite",
        placement=f"resource:{CONTROL}",
        detached=False,
    )
    client = make_client(cache=DistributedDictCache(handle, cache_key="t"))
    first = prompts(40, "cache-a")
    assert_all_succeeded(client.process_prompts_sync(first))
    second = prompts(60, "cache-b")
    requests_before = mock.stats()["requests"]
    pool, batch = in_background(lambda: client.process_prompts_sync(second))
    wait_until(lambda: mock.stats()["requests"] >= requests_before + 20, "20 requests")
    assert nodes.node_of(handle) == nodes.control.node_id
    nodes.replace(nodes.control)
    assert_all_succeeded(finish(pool, batch))

    stats = ray.get(handle.stats.remote())
    assert stats["loaded"] >= len(first)  # the restarted actor read the file again
    requests_before = mock.stats()["requests"]
    again = client.process_prompts_sync(first + second)
    assert all(r.local_cache_hit for r in again)  # written during the loss too
    assert mock.stats()["requests"] == requests_before
    ray.kill(handle)


def test_losing_a_callers_node_loses_no_prompt(nodes: Nodes, mock: MockProvider, make_client):
    import ray

    client = make_client()
    client.process_prompts_sync(["warm up"])  # every caller started
    limiter = ray.get_actor(client._routes[0].limiter_name, namespace="deluge_ray")
    assert nodes.node_of(limiter) == nodes.head.node_id  # the default placement
    callers = client._engine.pool.live_callers()
    worker_ids = {node.node_id: node for node in nodes.workers()}
    # The callers started after the first answer may not be placed yet: wait for them.
    hosts = nodes.nodes_of_running(callers)
    assert sorted(hosts) == sorted([nodes.head.node_id, *worker_ids]), "one caller per node"
    requests_before = mock.stats()["requests"]
    pool, batch = in_background(lambda: client.process_prompts_sync(prompts(90, "call")))
    wait_until(lambda: mock.stats()["requests"] >= requests_before + 30, "30 requests")
    nodes.replace(nodes.plain)
    assert_all_succeeded(finish(pool, batch))
    assert client._engine.pool.callers_started > len(callers)  # the lost one replaced


def lookup(step: int) -> str:
    """Look a step up.

    Args:
        step: Which step.
    """
    return f"step {step} looked up"


def three_rounds(view: RequestView) -> Reply | str:
    done = len(view.tool_results)
    return Reply.tool_call("lookup", {"step": done + 1}) if done < 2 else f"done after {done}"


def test_losing_a_subagents_node_loses_no_loop(nodes: Nodes, mock: MockProvider, make_client):
    from deluge_ray.agents._pool import SubAgentPool

    mock.script("*", three_rounds)
    client = make_client()
    pool = SubAgentPool(
        client, tools=[Tool.from_function(lookup)], max_rounds=4, num_actors=3,
        max_concurrent_agents=30,
    )  # fmt: skip
    try:
        pool.start()
        worker_ids = {node.node_id: node for node in nodes.workers()}
        # Where each actor runs, once each runs: one just created has no node yet.
        placed = nodes.nodes_of_running(pool.actors)
        assert sorted(placed) == sorted([nodes.head.node_id, *worker_ids]), "one per node"
        futures = pool.start_loops([Conversation().user(f"task {i}") for i in range(18)])
        wait_until(lambda: mock.stats()["requests"] >= 12, "12 model calls")
        nodes.replace(nodes.plain, add_another=False)
        results = [f.result(timeout=300) for f in futures]
    finally:
        pool.close()
    responses = [response for _, response in results]
    assert_all_succeeded(responses)
    assert all(r.completion == "done after 2" for r in responses)
    assert pool.restarted_loops > 0  # some loops were on the lost node and moved
