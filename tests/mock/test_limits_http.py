"""Rate limits over real HTTP, on an injected clock: a 2x-rate client is about half
refused, a 95% client never is, and the server's stats agree with what the clients counted.

The server's rate windows read a virtual clock that the test advances between sends, so
the counts are exact (no real pacing, no scheduling jitter); the windows' own rule is
tested in ``test_limits.py``.
"""

from __future__ import annotations

import asyncio

import aiohttp

from deluge_ray.mock import Latency, Limits, MockConfig, RateWindows

CHAT = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


class Clock:
    """The server's time, moved only by the test."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _schedule(per_second: dict[str, float], seconds: float) -> list[tuple[float, str]]:
    """Every send (at, key) of fixed-rate clients, in time order."""
    sends = [
        (i / rate, key) for key, rate in per_second.items() for i in range(int(rate * seconds))
    ]
    return sorted(sends)


async def test_double_rate_half_refused_paced_none_and_stats_agree(make_mock):
    # 1200 RPM = 20/s with a half-second bucket (10). Key A sends at 40/s for 2.5 s; key B
    # (its own limit) at 19/s. A is admitted the full bucket (10) plus 20/s of refill over
    # the 2.475 s between its first and last send (49), so 59 of 100.
    mock = await make_mock(MockConfig(limits=Limits(rpm=1200, burst_seconds=0.5)))
    clock = Clock()
    mock._core.windows = RateWindows(clock=clock)
    url = f"{mock.openai_base_url}/chat/completions"
    outcomes: dict[str, list] = {"a": [], "b": []}
    async with aiohttp.ClientSession() as session:
        for at, key in _schedule({"a": 40, "b": 19}, 2.5):
            clock.now = at
            headers = {"Authorization": f"Bearer key-{key}"}
            async with session.post(url, json=CHAT, headers=headers) as response:
                await response.read()
                outcomes[key].append((response.status, response.headers))
    a_ok = sum(1 for status, _ in outcomes["a"] if status == 200)
    a_refused = [h for status, h in outcomes["a"] if status == 429]
    b_ok = sum(1 for status, _ in outcomes["b"] if status == 200)
    assert (a_ok, len(a_refused)) == (59, 41)
    assert all(int(h["retry-after-ms"]) > 0 for h in a_refused)
    assert b_ok == 47 and len(outcomes["b"]) == 47
    stats = mock.stats()
    assert stats["rate_limited"] == len(a_refused)
    assert stats["by_status"]["200"] == a_ok + b_ok
    assert stats["requests"] == 100 + 47
    assert len(stats["by_key"]) == 2 and sorted(stats["by_key"].values()) == [47, 100]
    assert sum(stats["per_second"].values()) == stats["requests"]


async def test_retry_after_over_http_is_exactly_when_the_bucket_refills(make_mock):
    # 600 RPM = 10/s, a one-second bucket of 10: the eleventh request at t=0 must wait
    # 0.1 s, and is admitted once the virtual clock has moved by exactly that.
    mock = await make_mock(MockConfig(limits=Limits(rpm=600, burst_seconds=1.0)))
    clock = Clock()
    mock._core.windows = RateWindows(clock=clock)
    url = f"{mock.openai_base_url}/chat/completions"
    headers = {"Authorization": "Bearer k"}
    async with aiohttp.ClientSession() as session:

        async def send() -> tuple[int, dict[str, str]]:
            async with session.post(url, json=CHAT, headers=headers) as response:
                await response.read()
                return response.status, dict(response.headers)

        burst = [await send() for _ in range(11)]
        assert [status for status, _ in burst] == [200] * 10 + [429]
        assert int(burst[-1][1]["retry-after-ms"]) == 100
        clock.now += 0.099
        assert (await send())[0] == 429
        clock.now += 0.001
        assert (await send())[0] == 200


async def test_success_headers_and_stats_endpoint(make_mock):
    mock = await make_mock(MockConfig(limits=Limits(rpm=600, tpm=100_000)))
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{mock.openai_base_url}/chat/completions",
            json=CHAT,
            headers={"Authorization": "Bearer k"},
        ) as response:
            headers = response.headers
        async with session.get(f"{mock.url}/_mock/stats") as response:
            stats = await response.json()
    assert headers["x-ratelimit-limit-requests"] == "600"
    assert headers["x-ratelimit-remaining-requests"] == "599"
    assert headers["x-ratelimit-limit-tokens"] == "100000"
    assert (
        int(headers["x-ratelimit-remaining-tokens"])
        == 100_000 - stats["tokens_in"] - stats["tokens_out"]
    )
    assert headers["x-ratelimit-reset-requests"].endswith("ms")
    assert stats["requests"] == 1 and stats["peak_concurrency"] == 1


async def test_concurrency_limit_over_http(make_mock):
    mock = await make_mock(MockConfig(limits=Limits(max_concurrent=3), latency=Latency.fixed(300)))
    async with aiohttp.ClientSession() as session:

        async def one():
            async with session.post(
                f"{mock.openai_base_url}/chat/completions",
                json=CHAT,
                headers={"Authorization": "Bearer k"},
            ) as response:
                return response.status

        statuses = await asyncio.gather(*(one() for _ in range(6)))
    assert sorted(statuses) == [200, 200, 200, 429, 429, 429]
    assert mock.stats()["peak_concurrency"] >= 3
