"""LeaseClient against an in-process LimiterCore, in virtual time (no Ray, no sleeping)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.ratelimit._headers import RateLimitObservation
from deluge_ray.ratelimit._lease_client import LeaseClient
from tests.support.rates import max_in_any_second

from .virtual_time import InProcessLimiter, VirtualTime


async def saturate(vt, clients, seconds, workers_per_client=40, latency=0.2, tokens=100):
    """Workers that always have a request to send, like a ProviderCaller at saturation."""
    sent: list[float] = []

    async def worker(client: LeaseClient) -> None:
        while True:
            permit = await client.acquire(tokens)
            if vt.now >= seconds:
                client.complete(permit)
                return
            sent.append(vt.now)
            await vt.sleep(latency)
            client.complete(permit, actual_tokens=tokens)

    await asyncio.gather(*(worker(c) for c in clients for _ in range(workers_per_client)))
    for client in clients:
        await client.close()
    return sent


@pytest.mark.parametrize("n_clients", [1, 3])
async def test_saturation_is_paced_at_the_limit_with_few_lease_calls(n_clients: int) -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=3000)  # 50 requests/s
    clients = [
        LeaseClient(limiter, f"caller-{i}", clock=vt.clock, sleep=vt.sleep)
        for i in range(n_clients)
    ]
    sent = await vt.run(saturate(vt, clients, seconds=20.0))
    assert len(sent) >= 0.97 * 50 * 20
    assert len(sent) <= 50 * 20 + 1
    assert max_in_any_second(sent) <= 51
    # the property the engine is judged on: at most one actor call per 10 requests
    assert limiter.calls <= len(sent) / 10
    assert sum(c.lease_calls for c in clients) == limiter.calls
    # every granted request is either sent or given back: nothing leaks
    stats = limiter.core.stats()
    assert stats["granted_requests"] - stats["returned_requests"] >= len(sent)
    assert stats["in_use"] == 0


async def test_two_clients_in_different_places_share_one_rate() -> None:
    # A driver and an actor, each with its own LeaseClient, on one 2400 RPM limiter.
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=2400)  # 40 requests/s
    clients = [LeaseClient(limiter, name, clock=vt.clock, sleep=vt.sleep) for name in ("driver", "actor")]  # fmt: skip
    sent = await vt.run(saturate(vt, clients, seconds=10.0, workers_per_client=10, latency=0.05))
    span = max(sent) - min(sent)
    # the rate over their span plus the bucket's quarter second of credit and, for each
    # client, one request at the very edge of a slice
    assert 0.97 * 40 * span <= len(sent) <= 40 * (span + 0.25) + 2
    assert max_in_any_second(sent) <= 41
    assert limiter.calls <= len(sent) / 5


async def test_sends_of_a_lease_are_spread_over_its_slice() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=600)  # one request every 0.1 s

    async def run() -> list[float]:
        client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        times = []
        for _ in range(30):
            permit = await client.acquire()
            times.append(vt.now)
            client.complete(permit)
        await client.close()
        return times

    times = await vt.run(run())
    gaps = [b - a for a, b in itertools.pairwise(times)]
    # leases are placed on the caller's clock when they arrive, so two slices can be skewed
    # by at most one actor round trip (1.5 ms here)
    assert min(gaps) >= 0.1 - 0.0015
    assert times[-1] - times[0] < 29 * 0.1 + 0.05  # paced, yet no time lost between leases


async def test_concurrent_acquires_share_one_lease_request() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=60_000)

    async def run() -> int:
        client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        permits = await asyncio.gather(*(client.acquire(10) for _ in range(20)))
        assert len(permits) == 20
        return client.lease_calls

    assert await vt.run(run()) == 1
    assert limiter.calls == 1 and limiter.max_in_flight == 1


async def test_reports_ride_on_the_next_lease_request() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=6000, tpm=600_000)  # blocks of 25 requests
    obs = RateLimitObservation(limit_requests=6000, remaining_requests=5990)

    async def run() -> None:
        client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        held = await asyncio.gather(*(client.acquire(100) for _ in range(25)))
        assert limiter.calls == 1
        client.complete(held[0], actual_tokens=150, observation=obs)
        client.complete(held[1], actual_tokens=70)
        assert limiter.calls == 1  # completing costs no call
        await asyncio.gather(*(client.acquire(100) for _ in range(10)))

    await vt.run(run())
    assert limiter.calls == 2
    report = limiter.reports[1]
    assert report is not None
    assert report.token_correction == 50 - 30
    assert report.released_slots == 2 and report.completed == 2
    assert report.observation == obs


async def test_a_429_stops_everyone_for_retry_after() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=6000)
    times: dict[str, list[float]] = {"a": [], "b": []}

    async def run() -> None:
        a = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        b = LeaseClient(limiter, "b", clock=vt.clock, sleep=vt.sleep)
        permit = await a.acquire()
        a.complete(permit, status=429, retry_after=2.0)
        await vt.sleep(0.01)  # the report goes out at once, without waiting for a lease
        assert limiter.core.stats()["cooldowns"] == 1
        for name, client in (("a", a), ("b", b)):
            for _ in range(3):
                p = await client.acquire()
                times[name].append(vt.now)
                client.complete(p)

    await vt.run(run())
    assert min(times["a"] + times["b"]) >= 2.0
    report = next(r for r in limiter.reports if r is not None and r.rate_limited)
    assert report.retry_after == pytest.approx(2.0, abs=0.01)


async def test_close_gives_back_unused_capacity_and_idle_slots_are_flushed() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=60_000, max_concurrent=2)
    got_b: list[float] = []

    async def run() -> None:
        a = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        b = LeaseClient(limiter, "b", clock=vt.clock, sleep=vt.sleep)
        p1, p2 = await asyncio.gather(a.acquire(), a.acquire())
        a.complete(p1)
        a.complete(p2)  # a is idle now: its slots must not stay hostage
        permit = await b.acquire()
        got_b.append(vt.now)
        b.complete(permit)
        await a.close()
        await b.close()

    await vt.run(run())
    assert got_b[0] < 1.0
    assert limiter.core.stats()["in_use"] == 0


async def test_a_request_waiting_when_its_client_closes_fails_instead_of_re_leasing() -> None:
    # A closed client gives every grant straight back; an acquire still waiting in it once
    # asked again at the actor's round-trip rate forever. It must end instead.
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=10_000_000, max_concurrent=1)
    seen: dict[str, object] = {}

    async def run() -> None:
        client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        first = await client.acquire()
        waiting = asyncio.ensure_future(client.acquire())  # the only slot is taken
        await vt.sleep(0.05)
        assert not waiting.done()
        await client.close()
        calls_at_close = limiter.calls
        await vt.sleep(1.0)
        seen["done"] = waiting.done()
        seen["calls_after_close"] = limiter.calls - calls_at_close
        if waiting.done():
            seen["error"] = waiting.exception()
        else:
            waiting.cancel()
        client.complete(first)

    await vt.run(run())
    assert seen["done"] is True
    assert isinstance(seen["error"], ConfigurationError)
    assert "closed" in str(seen["error"])
    assert seen["calls_after_close"] == 0


async def test_request_larger_than_the_token_budget_is_refused_at_once() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=600, tpm=10_000)
    client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep, tpm=10_000)
    with pytest.raises(ConfigurationError, match="10000 tokens per minute"):
        await client.acquire(20_000)
    assert limiter.calls == 0


async def concurrency_bound(vt, clients, seconds, workers=40, latency=0.05):
    """Workers that always have work, against a limit of concurrency (not rate)."""
    sends = 0
    in_flight = {c.caller_id: 0 for c in clients}
    peak = {"total": 0, **{c.caller_id: 0 for c in clients}}

    async def worker(client: LeaseClient) -> None:
        nonlocal sends
        while vt.now < seconds:
            permit = await client.acquire()
            sends += 1
            in_flight[client.caller_id] += 1
            peak[client.caller_id] = max(peak[client.caller_id], in_flight[client.caller_id])
            peak["total"] = max(peak["total"], sum(in_flight.values()))
            await vt.sleep(latency)
            in_flight[client.caller_id] -= 1
            client.complete(permit)

    await asyncio.gather(*(worker(c) for c in clients for _ in range(workers)))
    for client in clients:
        await client.close()
    return sends, peak


async def test_slots_are_reused_so_concurrency_bound_work_needs_few_lease_calls() -> None:
    vt = VirtualTime()
    # The rate is out of reach; 10 slots are the limit, each request takes 50 ms.
    limiter = InProcessLimiter(vt, rpm=6_000_000, max_concurrent=10)
    client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
    sends, peak = await vt.run(concurrency_bound(vt, [client], seconds=5.0))
    assert peak["total"] == 10  # every slot used, never one more
    assert sends >= 0.95 * 10 / 0.05 * 5
    # Finished requests' slots serve the next ones without a round trip to the limiter:
    # without that, every lease would carry only the few slots freed since the last one.
    assert limiter.calls <= sends / 8
    assert limiter.core.stats()["in_use"] == 0  # all given back at close


async def test_competing_clients_keep_no_more_than_their_share_of_slots() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=6_000_000, max_concurrent=10)
    clients = [LeaseClient(limiter, f"c{i}", clock=vt.clock, sleep=vt.sleep) for i in range(2)]
    sends, peak = await vt.run(concurrency_bound(vt, clients, seconds=5.0))
    assert peak["total"] <= 10
    assert sends >= 0.9 * 10 / 0.05 * 5
    # Neither hoards: past the start, each keeps at most its fair half of the slots.
    assert peak["c0"] >= 3 and peak["c1"] >= 3
    assert limiter.core.stats()["in_use"] == 0


async def test_an_idle_client_gives_its_spare_slots_back() -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=6_000_000, max_concurrent=10)

    async def run() -> None:
        client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        permits = [await client.acquire() for _ in range(3)]
        for permit in permits:
            client.complete(permit)  # nothing waits any more
        await vt.sleep(1.0)  # the idle flush delivers the released slots
        held = limiter.core.stats()["in_use"]
        other = LeaseClient(limiter, "b", clock=vt.clock, sleep=vt.sleep)
        got = [await other.acquire() for _ in range(10 - held)]
        assert len(got) == 10 - held
        assert held <= 10 - 3  # at least the three finished requests' slots came back
        await client.close()
        for permit in got:
            other.complete(permit)
        await other.close()

    await vt.run(run())
    assert limiter.core.stats()["in_use"] == 0


async def test_an_idle_client_with_long_requests_in_flight_keeps_only_their_slots() -> None:
    """A lease's unsent requests kept their slots until the client next sent or a request
    of its ended: with 10 s requests, a caller out of work held slots idle for a whole
    wave while another caller's prompts waited for them."""
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=6_000_000, max_concurrent=10)

    async def run() -> None:
        client = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
        # Demand that used up its lease: the next lease asks for twice as much.
        for permit in await asyncio.gather(*(client.acquire() for _ in range(10))):
            client.complete(permit)
        permits = await asyncio.gather(*(client.acquire() for _ in range(3)))
        assert limiter.core.stats()["in_use"] > 3  # the lease brought slots for more
        await vt.sleep(1.0)  # idle, its three requests still running
        assert limiter.core.stats()["in_use"] == 3
        for permit in permits:
            client.complete(permit)
        await client.close()

    await vt.run(run())
    assert limiter.core.stats()["in_use"] == 0


async def test_at_a_very_high_rate_leases_stay_paced_and_rare() -> None:
    # 200,000 RPM: a lease's slice is shorter than MIN_HOLD_S, so leases are held longer
    # than their slice; sends must still keep to the rate over any one-second window.
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=200_000, max_concurrent=225)
    clients = [LeaseClient(limiter, f"c{i}", clock=vt.clock, sleep=vt.sleep) for i in range(2)]
    sent = await vt.run(saturate(vt, clients, seconds=4.0, workers_per_client=150, latency=0.02))
    rate = 200_000 / 60
    assert max_in_any_second(sent) <= 1.05 * rate + 1
    assert len(sent) >= 0.9 * rate * 4.0
    assert limiter.calls <= len(sent) / 50


async def test_a_caller_waiting_on_long_requests_is_not_presumed_dead() -> None:
    # "a" holds both slots with requests longer than slot_reclaim_seconds (120 s) and has
    # more waiting; "b" (short requests) keeps asking. "a" must keep renewing its lease
    # while it waits, or the limiter would think it dead and hand its busy slots to "b".
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=60_000, max_concurrent=2)
    a = LeaseClient(limiter, "a", clock=vt.clock, sleep=vt.sleep)
    b = LeaseClient(limiter, "b", clock=vt.clock, sleep=vt.sleep)
    in_flight = {"now": 0, "peak": 0}

    async def worker(client: LeaseClient, start: float, duration: float) -> None:
        await vt.sleep(start)
        while vt.now < 400.0:
            permit = await client.acquire()
            in_flight["now"] += 1
            in_flight["peak"] = max(in_flight["peak"], in_flight["now"])
            await vt.sleep(duration)
            in_flight["now"] -= 1
            client.complete(permit)

    async def run() -> None:
        await asyncio.gather(*(worker(a, 0.0, 300.0) for _ in range(3)), worker(b, 1.0, 1.0))
        await a.close()
        await b.close()

    await vt.run(run())
    assert limiter.core.stats()["reclaimed_slots"] == 0
    assert in_flight["peak"] == 2
