"""A real RateLimiter actor killed (and restarted by Ray) under load never lets callers
exceed the limit, and no lease call fails. Counted on the mock provider, not on a clock;
the rule itself is proven in virtual time in ``test_limiter_restarts.py``."""

from __future__ import annotations

import asyncio
import uuid

import aiohttp

from deluge_ray._secrets import key_fingerprint
from deluge_ray.actors.rate_limiter import aget_rate_limiter
from deluge_ray.mock import Limits, MockConfig, MockProvider
from deluge_ray.ratelimit._lease_client import LeaseClient

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
RPM = 1200  # 20 requests/s for the three callers together


async def _until(condition, what: str) -> None:
    """Poll for a state change (a readiness check: the time it takes is not asserted)."""
    for _ in range(3000):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"never happened: {what}")


async def test_killing_the_limiter_under_load_never_exceeds_the_limit(ray_cluster) -> None:
    ray = ray_cluster
    limiter = await aget_rate_limiter(
        "openai", key_fingerprint(f"sk-restart-{uuid.uuid4().hex}"), rpm=RPM, tpm=None,
        max_concurrent=None,
    )  # fmt: skip
    # The provider allows a quarter more than we pace at, with half a second of burst:
    # pacing at the limit never sees a 429, the old ~1.8x after a restart would.
    config = MockConfig(limits=Limits(rpm=RPM * 1.25, burst_seconds=0.5))
    clients = [LeaseClient.for_actor(limiter, f"restart-caller-{i}") for i in range(3)]
    statuses: list[int] = []
    stop = asyncio.Event()
    async with MockProvider(config) as server, aiohttp.ClientSession() as session:
        url = f"{server.openai_base_url}/chat/completions"

        async def worker(client: LeaseClient) -> None:
            while not stop.is_set():
                permit = await client.acquire()  # a failed lease call would raise here
                if stop.is_set():
                    client.complete(permit)
                    return
                headers = {"Authorization": "Bearer k"}
                async with session.post(url, json=CHAT, headers=headers) as response:
                    await response.read()
                    statuses.append(response.status)
                client.complete(permit, status=response.status)

        workers = [asyncio.create_task(worker(c)) for c in clients for _ in range(6)]
        await _until(lambda: len(statuses) >= 40, "40 requests before the kill")
        before = await limiter.stats.remote()
        ray.kill(limiter, no_restart=False)
        await _until(lambda: all(c.restarts_seen for c in clients), "every caller re-leased")
        at_restart = len(statuses)
        await _until(lambda: len(statuses) >= at_restart + 40, "40 requests after")
        stop.set()
        await asyncio.gather(*workers)
        for client in clients:
            await client.close()
        mock_stats = server.stats()
    after = await limiter.stats.remote()
    assert after["restarted"] and after["incarnation"] != before["incarnation"]
    assert all(c.restarts_seen == 1 for c in clients)
    # the provider never refused: the old leases and the new grants did not add up
    assert mock_stats["rate_limited"] == 0 and set(statuses) == {200}
    # and in no wall-clock second did it see more than the rate plus its half-second burst
    assert max(mock_stats["per_second"].values()) <= RPM / 60 * 1.5
