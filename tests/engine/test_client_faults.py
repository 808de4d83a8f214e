"""Failure handling through the whole client against the real mock: fallback, blocklist,
cache hits, a ProviderCaller killed in the middle of a batch.

The retry table (429 retry-after, 5xx, timeouts, max attempts) is tested without waiting in
tests/transport/; one loose smoke test here checks that a retry flows through the client
(it waits out one real backoff, under half a second).
"""

from __future__ import annotations

import asyncio

import ray

from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock
from deluge_ray.mock._validate import MockHTTPError  # scripted HTTP errors (see report)
from tests.support.mock_rules import fail_first

from .conftest import MINI, MINI_WIRE, NANO, NANO_WIRE


async def test_smoke_a_retried_server_error_is_counted_by_the_client(mock, make_client):
    mock.script(MINI_WIRE, fail_first(1, MockHTTPError(500, "boom")))
    client = make_client()
    client.open(show_progress=False)
    [resp] = await client.process_prompts_async(["retry me"])
    assert not resp.is_error and resp.completion == "ok after errors: retry me"
    snap = client.tracker.snapshot()
    assert (snap.requests_sent, snap.retries, snap.failed) == (2, 1, 0)
    assert mock.stats()["by_status"] == {"500": 1, "200": 1}
    client.close()


async def test_bad_request_is_not_retried(mock, make_client):
    mock.script(MINI_WIRE, fail_first(1, MockHTTPError(400, "unsupported parameter: foo")))
    client = make_client(max_attempts=5)
    [resp] = await client.process_prompts_async(["bad"], show_progress=False)
    assert resp.is_error and "unsupported parameter: foo" in resp.error_message
    assert mock.stats()["requests"] == 1


async def test_retry_on_another_model_when_the_error_says_so(mock, make_client):
    quota = MockHTTPError(429, "You exceeded your current quota", code="insufficient_quota")
    mock.script(MINI_WIRE, fail_first(1, quota))
    client = make_client([MINI, NANO], model_weights=[1.0, 0.0])
    [resp] = await client.process_prompts_async(["fall back"], show_progress=False)
    assert not resp.is_error and resp.model_internal == NANO
    assert mock.stats()["by_model"] == {MINI_WIRE: 1, NANO_WIRE: 1}


async def test_model_is_blocklisted_after_404_and_later_work_avoids_it(ray_cluster, make_client):
    config = MockConfig(known_models=frozenset({NANO_WIRE}))  # MINI answers 404
    with MockProvider(config) as server, use_mock(server):
        client = make_client([MINI, NANO], model_weights=[1.0, 0.0])
        first = await client.process_prompts_async(["one"], show_progress=False)
        assert first[0].model_internal == NANO and not first[0].is_error
        assert server.stats()["by_model"][MINI_WIRE] == 1
        server.reset_stats()
        later = await client.process_prompts_async([f"p{i}" for i in range(5)], show_progress=False)
        assert all(r.model_internal == NANO and not r.is_error for r in later)
        assert server.stats()["by_model"] == {NANO_WIRE: 5}


async def test_only_model_404_gives_an_error_result_naming_it(ray_cluster, make_client):
    with MockProvider(MockConfig(known_models=frozenset({NANO_WIRE}))) as server:
        with use_mock(server):
            client = make_client(MINI)
            [resp] = await client.process_prompts_async(["x"], show_progress=False)
            called = f"{server.openai_base_url}/chat/completions"
    assert resp.is_error and resp.status_code == 404
    assert MINI in resp.error_message and "does not exist" in resp.error_message
    assert f"[called {called}]" in resp.error_message  # a wrong base URL is obvious
    assert resp.give_up_if_no_other_models


class DictCache:
    """The two-method cache of the reference: get(prompt) / put(prompt, response)."""

    def __init__(self):
        self.entries = {}

    def get(self, prompt):
        return self.entries.get(prompt.fingerprint)

    def put(self, prompt, response):
        self.entries[prompt.fingerprint] = response


async def test_cache_hits_send_no_request_and_cost_nothing(mock, make_client):
    cache = DictCache()
    client = make_client(cache=cache)
    first = await client.process_prompts_async(["c1", "c2"], show_progress=False)
    assert not any(r.local_cache_hit for r in first)
    assert mock.stats()["requests"] == 2
    # Written back from the driver (the actor's copy of the cache would be lost).
    assert len(cache.entries) == 2
    mock.reset_stats()
    client.open(show_progress=False)
    second = await client.process_prompts_async(["c1", "c3", "c2"])
    assert [r.local_cache_hit for r in second] == [True, False, True]
    assert [r.completion for r in second] == [f"Mock reply to: {p}" for p in ("c1", "c3", "c2")]
    assert mock.stats()["requests"] == 1  # only the miss reached the provider
    snap = client.tracker.snapshot()
    assert snap.local_cache_hits == 2 and snap.requests_sent == 1
    client.close()


async def test_killed_caller_loses_no_prompt(ray_cluster, make_client):
    with MockProvider(MockConfig(latency=Latency.fixed(400))) as server, use_mock(server):
        client = make_client(num_callers=2)
        prompts = [f"survive {i}" for i in range(20)]
        job = asyncio.create_task(client.process_prompts_async(prompts, show_progress=False))

        # Wait until both callers have requests in flight at the provider, then kill one.
        async def both_callers_busy():
            while server.stats()["in_flight"] < 12:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(both_callers_busy(), 60)
        victim = client._engine.pool.live_callers()[0]
        ray.kill(victim)
        results = await job
    assert [r.completion for r in results] == [f"Mock reply to: {p}" for p in prompts]
    assert not any(r.is_error for r in results)
    assert server.stats()["requests"] > 20  # the victim's unanswered prompts were resent
    assert victim not in client._engine.pool.live_callers()
    assert len(client._engine.pool.live_callers()) == 2
