"""The per-second peak the mock reports can be held against the limit it enforces:
admitted requests (not arrivals, which include 429s) never exceed
``Limits.max_admitted_in_one_second``, and a greedy client reaches it."""

from __future__ import annotations

import aiohttp
import pytest

from deluge_ray.mock import Limits, MockConfig, RateWindows
from deluge_ray.mock._stats import MockStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(("rpm", "burst"), [(9_000, 1.0), (600, 1.0), (3_000, 0.25)])
def test_greedy_client_peaks_at_the_stated_one_second_maximum(rpm, burst) -> None:
    clock = Clock()
    windows = RateWindows(clock=clock)
    stats = MockStats(clock=clock)
    limits = Limits(rpm=rpm, burst_seconds=burst)
    for _ in range(5_000):  # 5 s in 1 ms steps; each step sends until one is refused
        while True:
            stats.request_started("chat.completions", "m", "k")
            if not windows.admit("k", "m", limits, 1, 1).allowed:
                stats.request_finished(429)
                break
            stats.request_admitted()
            windows.release("k", "m")
            stats.request_finished(200)
        clock.now += 0.001
    snap = stats.snapshot()
    bound = limits.max_admitted_in_one_second
    assert snap["peak_admitted_in_one_second"] <= bound
    assert snap["peak_admitted_in_one_second"] >= bound - rpm / 60 * 0.01 - 1
    # Arrivals count the refused requests too: they are no measure of the limit.
    assert max(snap["per_second"].values()) > bound
    assert sum(snap["admitted_per_second"].values()) == snap["by_status"]["200"]


def test_unlimited_has_no_one_second_maximum() -> None:
    assert Limits().max_admitted_in_one_second is None
    assert Limits(rpm=30, burst_seconds=0.1).max_admitted_in_one_second == 1.5


async def test_the_server_counts_admitted_requests_apart_from_arrivals(make_mock) -> None:
    mock = await make_mock(MockConfig(limits=Limits(rpm=60), seed=7))
    body = {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession(headers={"Authorization": "Bearer k"}) as session:
        statuses = []
        for _ in range(3):
            async with session.post(f"{mock.openai_base_url}/chat/completions", json=body) as r:
                statuses.append(r.status)
    assert statuses == [200, 429, 429]
    stats = mock.stats()
    assert sum(stats["per_second"].values()) == 3
    assert sum(stats["admitted_per_second"].values()) == 1
    assert stats["peak_admitted_in_one_second"] == 1
