"""Regressions found by the benchmarks: very high limits, slots of dead callers, idle callers
counted in the fair share. All in virtual time (no sleeping)."""

from __future__ import annotations

from deluge_ray.ratelimit._core import LimiterCore, UsageReport
from deluge_ray.ratelimit._lease_client import LeaseClient

from .virtual_time import InProcessLimiter, VirtualTime


class _BusyTime(VirtualTime):
    """Virtual time in which every clock reading costs 20 µs, like real code running."""

    def clock(self) -> float:
        self.now += 20e-6
        return self.now


async def test_a_limit_far_above_the_actor_round_trip_still_sends() -> None:
    # 100M RPM: a lease's whole slice is shorter than the time it takes to start using it.
    # The lease must still be usable, not retired and fetched again forever.
    vt = _BusyTime()
    limiter = InProcessLimiter(vt, rpm=100_000_000, max_concurrent=225)
    client = LeaseClient(limiter, "fast", clock=vt.clock, sleep=vt.sleep)

    async def send(n: int) -> int:
        for _ in range(n):
            client.complete(await client.acquire(10), actual_tokens=10)
        await client.close()
        return n

    assert await vt.run(send(500)) == 500
    assert limiter.calls <= 500 / 10


def test_slots_of_a_caller_that_went_silent_are_reclaimed() -> None:
    now = [0.0]
    core = LimiterCore(rpm=6000, tpm=None, max_concurrent=20, clock=lambda: now[0])
    assert core.lease("doomed", 20).slots == 20  # then the process dies: no report ever
    now[0] = 1.0
    assert core.lease("survivor", 10).requests == 0  # its slots are still held...
    now[0] = 1.0 + core.slot_reclaim_seconds + 1.0
    lease = core.lease("survivor", 10)
    assert lease.requests > 0, "...but not forever"
    assert core.stats()["reclaimed_slots"] == 20


def test_a_caller_that_wants_nothing_more_leaves_the_fair_share() -> None:
    # The fair share divides capacity by the callers competing for it. A driver that has
    # finished its work (its last report asks for nothing) must not keep halving the share
    # of the others for active_seconds: that slowed the tail of every shared job.
    now = [0.0]
    core = LimiterCore(rpm=600, tpm=None, max_concurrent=None, clock=lambda: now[0])
    core.lease("a", 1000)
    core.lease("b", 1000)
    assert core.stats()["active_callers"] == 2
    now[0] = 0.5
    core.lease("b", 0, report=UsageReport(completed=5))
    assert core.stats()["active_callers"] == 1
    now[0] = 0.6
    core.lease("b", 3)  # b has work again: it competes again
    assert core.stats()["active_callers"] == 2
