"""A dead caller's slots come back at once, and a restarted limiter never bursts.

Pure logic and LeaseClients in virtual time (no Ray, no sleeping); the real actor kill is
in ``test_limiter_restart_actor.py``.
"""

from __future__ import annotations

import asyncio

import pytest

from deluge_ray.ratelimit._core import LimiterCore, UsageReport
from deluge_ray.ratelimit._lease_client import LeaseClient
from deluge_ray.ratelimit._limiter_link import LimiterUnavailable
from deluge_ray.ratelimit._service import LimiterService
from tests.support.rates import max_in_any_second

from .test_lease_client import saturate
from .virtual_time import InProcessLimiter, VirtualTime


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def first_send_due(core: LimiterCore, clock: Clock) -> float:
    """Ask until granted (moving the clock as told); when the lease's first send is due."""
    while not (lease := core.lease("a", 10, 100)).granted:
        clock.now += lease.retry_in
    assert lease.ends_in - lease.starts_in == pytest.approx(lease.requests / 10)
    return clock.now + lease.starts_in


def test_a_released_caller_gives_its_slots_back_at_once() -> None:
    clock = Clock()
    core = LimiterCore(rpm=None, tpm=None, max_concurrent=4, clock=clock)
    assert core.lease("dead", 10).slots == 4
    assert not core.lease("next", 10).granted  # every slot is held by the dead caller
    assert core.release_caller("dead") == 4  # no time has passed: not slot_reclaim_seconds
    lease = core.lease("next", 10)
    assert lease.granted and lease.slots == 4
    stats = core.stats()
    assert (stats["released_callers"], stats["reclaimed_slots"], stats["in_use"]) == (1, 4, 4)
    assert core.release_caller("never-seen") == 0


def test_a_released_caller_leaves_the_fair_share() -> None:
    clock = Clock()
    core = LimiterCore(rpm=6000, tpm=None, max_concurrent=None, clock=clock)
    core.lease("dead", 1000)
    core.lease("alive", 1000)
    assert core.stats()["active_callers"] == 2
    core.release_caller("dead")
    assert core.stats()["active_callers"] == 1


def test_a_restarted_core_holds_its_first_sends_and_has_a_new_incarnation() -> None:
    clock = Clock()
    old = LimiterCore(rpm=600, tpm=60_000, max_concurrent=None, clock=clock)
    new = LimiterCore(rpm=600, tpm=60_000, max_concurrent=None, clock=clock, restarted=True)
    fresh = old.lease("a", 10, 100)
    assert fresh.starts_in == 0.0 and fresh.incarnation == old.incarnation
    assert new.lease("a", 10, 100).incarnation == new.incarnation != old.incarnation
    # the old incarnation's grants are assumed spent at the full rate for 3 s: whenever
    # the new one grants, the first send is due 3 s after it started, then at the rate
    assert first_send_due(new, clock) == pytest.approx(3.0)
    assert new.stats()["restarted"] and not old.stats()["restarted"]


def test_capacity_given_back_to_an_old_incarnation_is_not_credited() -> None:
    clock = Clock()
    core = LimiterCore(rpm=600, tpm=None, max_concurrent=2, clock=clock, restarted=True)
    stale = UsageReport(returned_requests=10, released_slots=2, incarnation="gone")
    core.lease("a", 0, 0, stale)
    assert first_send_due(core, clock) == pytest.approx(3.0)  # the hold is intact
    # a 429 reported to the old incarnation still stops everyone
    core.lease("a", 0, 0, UsageReport(rate_limited=1, retry_after=5.0, incarnation="gone"))
    assert core.stats()["cooling_down_for"] == pytest.approx(5.0)


async def test_the_service_is_the_core_behind_async_methods() -> None:
    clock = Clock()
    service = LimiterService(rpm=600, tpm=None, max_concurrent=1, clock=clock)
    assert (await service.lease("a", 5)).requests == 1
    assert await service.release_caller("a") == 1
    assert (await service.set_limits(rpm=1200))["rpm"] == 1200
    assert await service.max_request_tokens() is None
    assert (await service.stats())["released_callers"] == 1


class RestartingLimiter(InProcessLimiter):
    """An in-process limiter that can be 'killed': calls fail until a new core is up."""

    def __init__(self, vt: VirtualTime, rpm=None, tpm=None, max_concurrent=None) -> None:
        super().__init__(vt, rpm, tpm, max_concurrent)
        self._limits = (rpm, tpm, max_concurrent)
        self.down_until: float | None = None
        self.failed_calls = 0

    def kill(self, down_for: float) -> None:
        self.down_until = self.vt.now + down_for

    async def lease(self, caller_id, want, tokens_per_request, report):
        if self.down_until is not None:
            if self.vt.now < self.down_until:
                self.failed_calls += 1
                await self.vt.sleep(0.001)
                raise LimiterUnavailable("restarting")
            self.core = LimiterCore(*self._limits, clock=self.vt.clock, restarted=True)
            self.down_until = None
        return await super().lease(caller_id, want, tokens_per_request, report)


async def test_a_limiter_restart_never_bursts_and_callers_just_wait() -> None:
    vt = VirtualTime()
    rate = 30  # 1800 RPM, three callers: the three-node case of issue 16
    limiter = RestartingLimiter(vt, rpm=rate * 60)
    clients = [
        LeaseClient(limiter, f"caller-{i}", clock=vt.clock, sleep=vt.sleep) for i in range(3)
    ]

    async def kill_at(at: float) -> None:
        await vt.sleep(at)
        limiter.kill(down_for=0.5)

    sent, _ = await vt.run(
        asyncio.gather(saturate(vt, clients, seconds=20.0, workers_per_client=20), kill_at(8.0))
    )
    assert limiter.failed_calls > 0  # some lease calls did hit the dead limiter
    assert all(c.restarts_seen == 1 for c in clients)
    # never above the limit in any one-second window, across the restart too
    assert max_in_any_second(sent) <= rate + 1
    # before the kill and once the restart hold is over, the limit is reached again
    assert len([t for t in sent if 2.0 <= t < 8.0]) >= 0.95 * rate * 6
    recovered = [t for t in sent if 8.0 + 0.5 + 3.0 + 1.0 <= t < 20.0]
    assert len(recovered) >= 0.95 * rate * (20.0 - 12.5)


async def test_a_lease_call_that_fails_during_a_restart_is_retried_with_backoff() -> None:
    vt = VirtualTime()
    limiter = RestartingLimiter(vt, rpm=600)
    pauses: list[float] = []

    async def sleep(delay: float) -> None:
        pauses.append(delay)
        await vt.sleep(delay)

    client = LeaseClient(limiter, "c", clock=vt.clock, sleep=sleep)
    limiter.kill(down_for=0.3)
    permit = await vt.run(client.acquire())
    client.complete(permit)
    assert client.limiter_retries == limiter.failed_calls == 3
    assert pauses[:3] == [0.05, 0.1, 0.2]  # doubling, on the injected sleep
    assert client.sent == 1


async def test_a_limiter_down_for_too_long_surfaces_as_unavailable() -> None:
    vt = VirtualTime()
    limiter = RestartingLimiter(vt, rpm=600)
    client = LeaseClient(
        limiter, "c", clock=vt.clock, sleep=vt.sleep, limiter_unavailable_timeout=5.0
    )
    limiter.kill(down_for=60.0)
    with pytest.raises(LimiterUnavailable):
        await vt.run(client.acquire())
    assert vt.now < 6.0


async def test_closing_while_the_limiter_is_down_does_not_wait_for_it() -> None:
    vt = VirtualTime()
    limiter = RestartingLimiter(vt, rpm=600)
    client = LeaseClient(limiter, "c", clock=vt.clock, sleep=vt.sleep)

    async def use_then_close() -> None:
        client.complete(await client.acquire())
        limiter.kill(down_for=600.0)
        await client.close()  # its last report is best effort

    await vt.run(use_then_close())
    assert vt.now < 1.0 and limiter.failed_calls >= 1
