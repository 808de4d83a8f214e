"""The driver-side Pacer in virtual time: starts spaced at the rate, 429s slow it down."""

from __future__ import annotations

import asyncio

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.ratelimit._pacer import Pacer

from .virtual_time import VirtualTime


async def _starts(vt: VirtualTime, pacer: Pacer, count: int, hold: float = 0.0) -> list[float]:
    starts: list[float] = []

    async def one() -> None:
        async with pacer:
            starts.append(vt.now)
            await vt.sleep(hold)

    await asyncio.gather(*(one() for _ in range(count)))
    return starts


async def test_starts_are_spaced_at_the_rate() -> None:
    vt = VirtualTime()
    pacer = Pacer(600, max_concurrent=100, clock=vt.clock, sleep=vt.sleep)
    starts = await vt.run(_starts(vt, pacer, 5))
    assert starts == pytest.approx([0.0, 0.1, 0.2, 0.3, 0.4])


async def test_concurrency_is_capped() -> None:
    vt = VirtualTime()
    pacer = Pacer(60_000, max_concurrent=2, clock=vt.clock, sleep=vt.sleep)
    starts = await vt.run(_starts(vt, pacer, 4, hold=1.0))
    # two run at once; the next two start when those end, a second later
    assert [round(t) for t in starts] == [0, 0, 1, 1]


async def test_a_429_pauses_every_start_and_doubles_the_interval() -> None:
    vt = VirtualTime()
    pacer = Pacer(600, max_concurrent=10, clock=vt.clock, sleep=vt.sleep)
    pacer.throttled(retry_after=2.0)
    assert pacer.interval == pytest.approx(1.0)  # max(2 * 0.1, 2.0 / 2)
    starts = await vt.run(_starts(vt, pacer, 2))
    assert starts == pytest.approx([2.0, 3.0])
    pacer.succeeded()
    assert pacer.interval == pytest.approx(0.9)  # creeping back by 10 % per success


def test_bad_limits_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="max_requests_per_minute"):
        Pacer(0, max_concurrent=1)
