"""Two driver processes with the same key share one RateLimiter; with_limits reaches it;
callers killed mid-batch give their slots back at once."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
import uuid

import ray

from deluge_ray.client._routes import limiter_name
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

from .conftest import MINI

SECOND_DRIVER = textwrap.dedent(
    """
    import json, os, sys
    from deluge_ray.client import LLMClient

    client = LLMClient("gpt-4.1-mini", address=os.environ["TEST_RAY_ADDRESS"], num_callers=1,
                       max_requests_per_minute=60_000, max_tokens_per_minute=50_000_000)
    out = client.process_prompts_sync([f"driver two {i}" for i in range(6)],
                                      show_progress=False)
    limiter = client._routes[0].limiter
    print(json.dumps({"completions": [r.completion for r in out],
                      "limiter_id": limiter._actor_id.hex()}))
    client.shutdown()
    """
)


def test_two_driver_processes_share_one_limiter(mock, make_client, monkeypatch):
    # A key of our own, so this limiter has seen no other test's traffic.
    key = f"sk-shared-{uuid.uuid4().hex}"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    client = make_client(MINI)
    mine = client.process_prompts_sync([f"driver one {i}" for i in range(6)], show_progress=False)
    assert not any(r.is_error for r in mine)

    env = dict(os.environ)
    env["TEST_RAY_ADDRESS"] = ray.get_runtime_context().gcs_address
    done = subprocess.run(
        [sys.executable, "-c", SECOND_DRIVER],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    assert theirs["completions"] == [f"Mock reply to: driver two {i}" for i in range(6)]

    limiter = client._routes[0].limiter
    assert theirs["limiter_id"] == limiter._actor_id.hex()
    client.shutdown()  # returns leases and delivers the last usage reports
    from deluge_ray._secrets import Secret

    shared = ray.get_actor(limiter_name("openai", Secret(key)), namespace="deluge_ray")
    stats = ray.get(shared.stats.remote())
    assert stats["completed"] == 12  # both drivers' requests went through this one limiter
    assert mock.stats()["requests"] == 12


def test_with_limits_updates_the_shared_limiter(mock, make_client, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-limits-{uuid.uuid4().hex}")
    client = make_client(MINI, max_requests_per_minute=600)
    client.process_prompts_sync(["create the limiter"], show_progress=False)
    limiter = client._routes[0].limiter
    assert ray.get(limiter.stats.remote())["rpm"] == 600
    client.with_limits(max_requests_per_minute=1234, max_concurrent_requests=7)
    stats = ray.get(limiter.stats.remote())
    assert (stats["rpm"], stats["max_concurrent"]) == (1234, 7)


async def test_killed_callers_slots_are_free_for_the_next_batch_at_once(
    ray_cluster, make_client, monkeypatch
):
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-reclaim-{uuid.uuid4().hex}")
    with MockProvider(MockConfig(latency=Latency.fixed(400))) as server, use_mock(server):
        client = make_client(MINI, num_callers=2, max_concurrent_requests=4)
        prompts = [f"reclaim {i}" for i in range(16)]
        job = asyncio.create_task(client.process_prompts_async(prompts, show_progress=False))

        async def every_slot_busy():  # a readiness poll, not a timing assumption
            while server.stats()["in_flight"] < 4:
                await asyncio.sleep(0.02)

        await asyncio.wait_for(every_slot_busy(), 60)
        victims = client._engine.pool.live_callers()
        for victim in victims:  # every slot is held by a caller that dies now
            ray.kill(victim)
        results = await job
        assert not any(r.is_error for r in results)
        limiter = client._routes[0].limiter
        stats = await limiter.stats.remote()
        # the driver told the limiter: the slots did not wait slot_reclaim_seconds (120 s)
        assert stats["released_callers"] >= 1 and stats["reclaimed_slots"] >= 1

        server.reset_stats()
        again = await client.process_prompts_async(
            [f"next {i}" for i in range(8)], show_progress=False
        )
        assert not any(r.is_error for r in again)
        # all four slots were free for the next batch, none held by the dead callers
        assert server.stats()["peak_concurrency"] == 4
        assert not set(victims) & set(client._engine.pool.live_callers())
