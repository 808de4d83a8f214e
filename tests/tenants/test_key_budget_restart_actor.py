"""A real RateLimiter actor killed and restarted by Ray still knows its key's spend."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from deluge_ray._secrets import key_fingerprint
from deluge_ray.actors.rate_limiter import aget_rate_limiter


async def test_a_restarted_limiter_keeps_the_key_budget_spend(ray_cluster) -> None:
    ray = ray_cluster
    limiter = await aget_rate_limiter(
        "openai", key_fingerprint(f"sk-spend-{uuid.uuid4().hex}"), rpm=600, tpm=None,
        max_concurrent=None,
    )  # fmt: skip
    admitted, _ = await limiter.reserve_spend.remote([0.4, 0.4], 1.0, 86_400)
    assert admitted == [True, True]
    await limiter.settle_spend.remote(0.4, 0.1)
    before = await limiter.stats.remote()
    ray.kill(limiter, no_restart=False)
    # The next call waits for the new instance (max_task_retries); poll until it is a
    # new incarnation (a readiness check: the time it takes is not asserted).
    for _ in range(500):
        try:
            after = await limiter.stats.remote()
            if after["incarnation"] != before["incarnation"]:
                break
        except Exception:
            pass
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the limiter never came back")
    assert after["restarted"]
    assert await limiter.key_spend.remote(86_400) == pytest.approx(0.5)
    admitted, spent = await limiter.reserve_spend.remote([0.4, 0.4], 1.0, 86_400)
    assert admitted == [True, False] and spent == pytest.approx(0.9)
