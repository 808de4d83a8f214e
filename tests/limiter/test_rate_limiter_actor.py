"""The RateLimiter actor on a real (session-shared) Ray cluster."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from deluge_ray._constants import RAY_NAMESPACE
from deluge_ray._secrets import key_fingerprint
from deluge_ray.actors.rate_limiter import aget_rate_limiter, get_rate_limiter, limiter_name
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
    """Smoke test over real processes: both sides lease from the one actor, in blocks, and
    give every slot back. The rate bound itself is proven in virtual time
    (``test_lease_client.test_two_clients_in_different_places_share_one_rate``)."""
    ray = ray_cluster

    @ray.remote(num_cpus=0)
    class Sender:
        """Another process with its own LeaseClient, as a ProviderCaller would have."""

        async def send(self, limiter, count: int) -> int:
            client = LeaseClient.for_actor(limiter, "sender-actor")
            for _ in range(count):
                client.complete(await client.acquire())
            await client.close()
            return client.sent, client.lapsed

    rpm = 6000  # 100 requests/s between the two of them
    limiter = await aget_rate_limiter("openai", key_fingerprint(fresh_key()), rpm=rpm, tpm=None, max_concurrent=None)  # fmt: skip
    sender = Sender.remote()
    remote_sent = sender.send.remote(limiter, 40)
    client = LeaseClient.for_actor(limiter, "driver")
    for _ in range(40):
        client.complete(await client.acquire())
    await client.close()
    remote_count, remote_lapsed = await remote_sent
    assert client.sent == 40 and remote_count == 40
    stats = await limiter.stats.remote()
    # every send was granted by the limiter; the rest of each block came back, except the
    # turns a stalled caller let lapse (a loaded machine; see ratelimit/_held_lease.py)
    lapsed = client.lapsed + remote_lapsed
    assert stats["granted_requests"] - stats["returned_requests"] == 80 + lapsed
    assert stats["lease_calls"] < 80 / 2  # leases, not one call per request
    assert stats["in_use"] == 0  # both gave every slot back
    ray.kill(sender)


async def test_a_restarted_limiter_comes_back_with_its_creation_limits(ray_cluster) -> None:
    ray = ray_cluster
    fp = key_fingerprint(fresh_key())
    limiter = await aget_rate_limiter("gemini", fp, rpm=600, tpm=None, max_concurrent=None)
    first = await limiter.lease.remote("a", 10)
    assert first.requests == 10 and first.starts_in == 0.0
    before = await limiter.stats.remote()
    assert not before["restarted"] and first.incarnation == before["incarnation"]
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
    # Ray told the new instance it was reconstructed: a new incarnation, held back while
    # the old one's grants may still be spent (the first sends are due 3 s after it began)
    assert stats["restarted"] and stats["incarnation"] != before["incarnation"]
    lease = await limiter.lease.remote("a", 10)
    assert lease.incarnation == stats["incarnation"]
    assert not lease.granted or lease.starts_in >= 2.0
