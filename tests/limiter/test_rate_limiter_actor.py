"""The RateLimiter actor on a real (session-shared) Ray cluster."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from deluge_ray.actors.rate_limiter import aget_rate_limiter, get_rate_limiter, limiter_name

from deluge_ray._constants import RAY_NAMESPACE
from deluge_ray._secrets import key_fingerprint
from deluge_ray.errors import ConfigurationError
from deluge_ray.ratelimit._lease_client import LeaseClient


def fresh_key() -> str:
    return f"sk-test-{uuid.uuid4().hex}"


def test_get_or_create_shares_one_actor_per_provider_and_key(ray_cluster) -> None:
    ray = ray_cluster
    key = fresh_key()
    fp = key_fingerprint(key)
    first = get_rate_limiter("openai", fp, rpm=600, tpm=None, max_concurrent=None)
    again = get_rate_limiter("openai", fp, rpm=1200, tpm=50_000, max_concurrent=8)
    other_key = get_rate_limiter("openai", key_fingerprint(fresh_key()), rpm=600, tpm=None, max_concurrent=None)  # fmt: skip
    other_provider = get_rate_limiter("anthropic", fp, rpm=600, tpm=None, max_concurrent=None)
    assert first._actor_id == again._actor_id
    assert len({first._actor_id, other_key._actor_id, other_provider._actor_id}) == 3
    # last writer wins: the second get applied its limits to the existing limiter
    stats = ray.get(first.stats.remote())
    assert (stats["rpm"], stats["tpm"], stats["max_concurrent"]) == (1200, 50_000, 8)
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)
             if a["namespace"] == RAY_NAMESPACE]  # fmt: skip
    assert limiter_name("openai", fp) in names
    assert f"limiter:openai:{fp}" in names
    assert not any(key in name or key[3:] in name for name in names)


async def test_async_get_applies_limits_before_returning(ray_cluster) -> None:
    fp = key_fingerprint(fresh_key())
    first = await aget_rate_limiter("openai", fp, rpm=600, tpm=None, max_concurrent=None)
    again = await aget_rate_limiter("openai", fp, rpm=300, tpm=None, max_concurrent=2)
    assert first._actor_id == again._actor_id
    stats = await first.stats.remote()
    assert (stats["rpm"], stats["max_concurrent"]) == (300, 2)


def test_the_raw_key_is_refused_as_an_actor_name() -> None:
    key = fresh_key()
    with pytest.raises(ConfigurationError) as err:
        limiter_name("openai", key)
    assert key not in str(err.value)
    with pytest.raises(ConfigurationError, match="rpm"):
        get_rate_limiter("openai", key_fingerprint(key), rpm=0, tpm=None, max_concurrent=None)


async def test_a_driver_and_an_actor_share_one_limit(ray_cluster) -> None:
    ray = ray_cluster

    @ray.remote(num_cpus=0)
    class Sender:
        """Another process with its own LeaseClient, as a ProviderCaller would have."""

        async def ready(self) -> bool:
            return True

        async def send_for(self, limiter, seconds: float) -> list[float]:
            client = LeaseClient.for_actor(limiter, "sender-actor")
            times: list[float] = []
            end = time.monotonic() + seconds
            while True:
                permit = await client.acquire()
                now = time.monotonic()
                client.complete(permit)
                if now >= end:
                    break
                times.append(now)
            await client.close()
            return times

    rpm = 2400  # 40 requests/s between the two of them
    limiter = await aget_rate_limiter("openai", key_fingerprint(fresh_key()), rpm=rpm, tpm=None, max_concurrent=None)  # fmt: skip
    sender = Sender.remote()
    await sender.ready.remote()
    seconds = 1.5
    remote_times = sender.send_for.remote(limiter, seconds)

    client = LeaseClient.for_actor(limiter, "driver")
    local: list[float] = []
    end = time.monotonic() + seconds
    while True:
        permit = await client.acquire()
        now = time.monotonic()
        client.complete(permit)
        if now >= end:
            break
        local.append(now)
    await client.close()
    remote = await remote_times

    assert local and remote  # both got capacity from the one limiter
    both = sorted(local + remote)  # CLOCK_MONOTONIC is shared by processes on one machine
    span = both[-1] - both[0]
    # together they stay within the limit: the rate over their span plus the bucket's
    # quarter second of credit and, for each of the two clients, one request sent at the
    # very edge of a slice (the span is measured between sends, not between slices)
    assert len(both) <= rpm / 60 * (span + 0.25) + 2
    stats = await limiter.stats.remote()
    assert stats["lease_calls"] <= len(both) / 5 + 4  # leases, not one call per request
    assert stats["in_use"] == 0  # both gave every slot back
    ray.kill(sender)


async def test_a_restarted_limiter_comes_back_with_its_creation_limits(ray_cluster) -> None:
    ray = ray_cluster
    fp = key_fingerprint(fresh_key())
    limiter = await aget_rate_limiter("gemini", fp, rpm=600, tpm=None, max_concurrent=None)
    assert (await limiter.lease.remote("a", 10)).requests == 10
    ray.kill(limiter, no_restart=False)
    # ray.kill is asynchronous: a call may still reach the old instance, and calls during
    # the restart wait for the new one (max_task_retries) instead of failing. Poll until the
    # answer comes from the new instance (a readiness check, not a timing assumption).
    for _ in range(400):
        stats = await limiter.stats.remote()
        if stats["lease_calls"] == 0:
            break
        await asyncio.sleep(0.05)
    assert stats["lease_calls"] == 0 and stats["rpm"] == 600
    lease = await limiter.lease.remote("a", 10)
    assert lease.granted and lease.starts_in == 0.0  # empty state: no stale reservations
