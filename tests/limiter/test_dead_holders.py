"""A limiter finds slot holders that died without a word and frees their slots at once.

The rule (``ratelimit/_holders.py``) with an injected clock and an injected liveness
probe; the same rule with real actors is in ``tests/lifecycle/test_killed_driver_slots.py``.
"""

from __future__ import annotations

import asyncio

from deluge_ray.ratelimit._service import LimiterService


class Probe:
    """A liveness probe that knows which holders are dead, and records what it was asked."""

    def __init__(self, dead: set[str]) -> None:
        self.dead = dead
        self.asked: list[list[str]] = []

    def __call__(self, holders: list[str]) -> set[str]:
        self.asked.append(sorted(holders))
        return self.dead & set(holders)


def make_service(probe) -> tuple[LimiterService, list[float]]:
    now = [0.0]
    service = LimiterService(
        rpm=None, tpm=None, max_concurrent=8, clock=lambda: now[0], holder_probe=probe
    )
    return service, now


async def take_slots(service: LimiterService, caller_id: str, holder: str, n: int) -> int:
    lease = await service.lease(caller_id, n)
    await service.note_holder(caller_id, holder)
    return lease.slots


def in_use(service: LimiterService) -> int:
    return asyncio.run(service.stats())["in_use"]


def test_a_quiet_callers_dead_holder_gives_its_slots_back_and_a_live_one_keeps_them():
    probe = Probe(dead={"actor:dead"})
    service, now = make_service(probe)

    async def scenario():
        assert await take_slots(service, "caller-dead", "actor:dead", 4) == 4
        assert await take_slots(service, "caller-live", "actor:live", 4) == 4
        now[0] = 1.0  # not yet quiet: nobody is looked up
        assert await service.reclaim_dead_holders() == 0
        assert probe.asked == []
        now[0] = 2.5
        freed = await service.reclaim_dead_holders()
        return freed, (await service.stats())["in_use"], (await service.lease("next", 4)).slots

    freed, still_used, next_slots = asyncio.run(scenario())
    assert probe.asked == [["actor:dead", "actor:live"]]
    assert freed == 4
    assert still_used == 4  # the live caller's slots stay its own
    assert next_slots == 4  # the dead caller's slots went to the next one at once


def test_a_caller_that_keeps_calling_is_never_looked_up():
    probe = Probe(dead={"job:01000000"})
    service, now = make_service(probe)

    async def scenario():
        await take_slots(service, "busy", "job:01000000", 4)
        for step in range(1, 6):
            now[0] = step * 1.5
            await service.lease("busy", 0)  # a report on a finished request: alive
            assert await service.reclaim_dead_holders() == 0

    asyncio.run(scenario())
    assert probe.asked == []


def test_a_failing_or_undecided_probe_frees_nothing():
    def broken(holders):
        raise RuntimeError("GCS unreachable")

    for probe in (broken, Probe(dead=set())):
        service, now = make_service(probe)

        async def scenario(service=service, now=now):
            await take_slots(service, "c", "actor:unknown", 3)
            now[0] = 10.0
            try:
                return await service.reclaim_dead_holders()
            except RuntimeError:
                return 0

        assert asyncio.run(scenario()) == 0
        assert in_use(service) == 3


def test_a_caller_without_a_named_holder_waits_for_the_slow_rule():
    probe = Probe(dead={"actor:dead"})
    service, now = make_service(probe)

    async def scenario():
        await service.lease("anonymous", 4)  # never said which process it lives in
        now[0] = 30.0
        return await service.reclaim_dead_holders()

    assert asyncio.run(scenario()) == 0
    assert probe.asked == []
    assert in_use(service) == 4
