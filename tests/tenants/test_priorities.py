"""Priorities between clients of one limiter, in virtual time (LeaseClient + LimiterCore)."""

from __future__ import annotations

import asyncio

from deluge_ray.ratelimit._lease_client import LeaseClient
from deluge_ray.ratelimit._priority import Tenant, parse_priority
from tests.limiter.virtual_time import InProcessLimiter, VirtualTime
from tests.support.rates import max_in_any_second

RPM = 3000  # 50 requests/s
SECONDS = 20.0


class TenantLimiter(InProcessLimiter):
    """The in-process limiter of the limiter tests, passing the tenant on."""

    async def lease(self, caller_id, want, tokens_per_request, report, tenant=None):
        self.calls += 1
        await self.vt.sleep(0.00075)
        lease = self.core.lease(caller_id, want, tokens_per_request, report, tenant)
        await self.vt.sleep(0.00075)
        return lease


def lease_client(vt, limiter, name, priority="default", weight=1.0, caller=0):
    tenant = Tenant(name, parse_priority(priority), weight)
    caller_id = f"caller-{caller}@{name}"
    return LeaseClient(limiter, caller_id, clock=vt.clock, sleep=vt.sleep, tenant=tenant)


async def saturating(vt, client, sent, workers=40, latency=0.2, tokens=0):
    async def worker():
        while True:
            permit = await client.acquire(tokens)
            if vt.now >= SECONDS:
                client.complete(permit)
                return
            sent.append(vt.now)
            await vt.sleep(latency)
            client.complete(permit)

    await asyncio.gather(*(worker() for _ in range(workers)))
    await client.close()


async def one_per_second(vt, client, sent, waits, latency=0.2, start=0.0, tokens=0):
    async def one():
        asked = vt.now
        permit = await client.acquire(tokens)
        waits.append(vt.now - asked)
        sent.append(vt.now)
        await vt.sleep(latency)
        client.complete(permit)

    tasks = []
    await vt.sleep(start)
    while vt.now < SECONDS - 1:
        tasks.append(asyncio.ensure_future(one()))
        await vt.sleep(1.0)
    await asyncio.gather(*tasks)
    await client.close()


async def batch_and_interactive(
    interactive_priority, notebook_start=0.0, batch_callers=1, tpm=None, tokens=(0, 0)
):
    vt = VirtualTime()
    limiter = TenantLimiter(vt, rpm=RPM, tpm=tpm)
    batch = [
        lease_client(vt, limiter, "batch-job", "batch", caller=i) for i in range(batch_callers)
    ]
    notebook = lease_client(vt, limiter, "notebook", interactive_priority)
    batch_sent, notebook_sent, waits = [], [], []
    workers = 40 // batch_callers
    await vt.run(
        asyncio.gather(
            *(
                saturating(vt, caller, batch_sent, workers=workers, tokens=tokens[0])
                for caller in batch
            ),
            one_per_second(
                vt, notebook, notebook_sent, waits, start=notebook_start, tokens=tokens[1]
            ),
        )
    )
    return batch_sent, notebook_sent, sorted(waits)


async def test_an_interactive_client_is_not_queued_behind_a_saturating_batch() -> None:
    batch_sent, notebook_sent, waits = await batch_and_interactive("interactive")
    everything = batch_sent + notebook_sent
    # the notebook's prompts go at once (a lease round trip); only the first, sent as the
    # batch starts too, before the limiter has built its standing credit, may wait
    # behind the batch (at most about one slice)
    assert len(waits) >= 18
    assert waits[-2] <= 0.02, waits[-5:]
    assert waits[-1] <= 0.45
    # priority leaves no quota idle: together at least 97 % of the limit ...
    assert len(everything) >= 0.97 * RPM / 60 * SECONDS
    # ... and never above it by more than the overdraw the provider's window absorbs
    assert max_in_any_second(everything) <= RPM / 60 + 2


async def test_without_priorities_the_interactive_client_waits_behind_the_batch() -> None:
    _, _, waits_same_class = await batch_and_interactive("batch")
    _, _, waits_priority = await batch_and_interactive("interactive")
    middle = len(waits_same_class) // 2
    # in one class the notebook's prompt waits behind the batch's reservations
    assert waits_same_class[middle] > 5 * max(waits_priority[middle], 0.003)


async def test_two_saturating_classes_the_higher_takes_most_and_the_floor_holds() -> None:
    vt = VirtualTime()
    limiter = TenantLimiter(vt, rpm=RPM)
    batch = lease_client(vt, limiter, "batch-job", "batch")
    urgent = lease_client(vt, limiter, "urgent-job", "interactive")
    batch_sent, urgent_sent = [], []
    await vt.run(
        asyncio.gather(saturating(vt, batch, batch_sent), saturating(vt, urgent, urgent_sent))
    )
    total = len(batch_sent) + len(urgent_sent)
    assert total >= 0.97 * RPM / 60 * SECONDS  # nothing idle
    batch_share = len(batch_sent) / total
    assert 0.04 <= batch_share <= 0.15, batch_share  # the 5 % floor, and not much more


async def test_within_a_class_clients_share_by_weight() -> None:
    vt = VirtualTime()
    limiter = TenantLimiter(vt, rpm=RPM)
    light = lease_client(vt, limiter, "light", weight=1.0)
    heavy = lease_client(vt, limiter, "heavy", weight=3.0)
    light_sent, heavy_sent = [], []
    await vt.run(
        asyncio.gather(saturating(vt, light, light_sent), saturating(vt, heavy, heavy_sent))
    )
    total = len(light_sent) + len(heavy_sent)
    assert total >= 0.97 * RPM / 60 * SECONDS
    assert 0.18 <= len(light_sent) / total <= 0.32, len(light_sent) / total


async def test_a_lower_class_takes_everything_the_higher_one_leaves() -> None:
    # A high-priority client with little demand never holds the batch below the rate.
    vt = VirtualTime()
    limiter = TenantLimiter(vt, rpm=RPM)
    batch = lease_client(vt, limiter, "batch-job", "batch")
    trickle = lease_client(vt, limiter, "trickle", 10)
    batch_sent, trickle_sent = [], []
    await vt.run(
        asyncio.gather(
            saturating(vt, batch, batch_sent),
            saturating(vt, trickle, trickle_sent, workers=1, latency=0.5),
        )
    )
    assert len(trickle_sent) >= 0.9 * SECONDS / 0.5  # one worker, never held up
    assert len(batch_sent) + len(trickle_sent) >= 0.97 * RPM / 60 * SECONDS


async def test_a_notebook_joining_a_saturating_batch_jumps_the_queue_from_its_first_prompt():
    # The batch alone keeps a standing credit of one request: the notebook's first prompt
    # (a class the limiter has not seen yet) is not queued behind the batch's schedule,
    # nor refused for its fair share among the batch's four callers, nor held back for
    # being larger than the batch's requests (a token limit far out of the way).
    batch_sent, notebook_sent, waits = await batch_and_interactive(
        "interactive",
        notebook_start=3.0,
        batch_callers=4,
        tpm=10_000_000_000,
        tokens=(300, 900),
    )
    assert len(waits) >= 15
    assert waits[-1] <= 0.02, waits[-5:]
    everything = batch_sent + notebook_sent
    assert len(everything) >= 0.97 * RPM / 60 * SECONDS
    assert max_in_any_second(everything) <= RPM / 60 + 2


async def test_equal_clients_of_one_class_share_the_whole_rate_and_no_more() -> None:
    # Three drivers, one client each, all saturating: each is at its entitlement, and
    # the plain fair share keeps it there; a cap judged on recent grants refused all
    # three at once (93 % of the limit, 63 sends in one second against 50).
    vt = VirtualTime()
    limiter = TenantLimiter(vt, rpm=RPM)
    clients = [lease_client(vt, limiter, f"driver-{i}") for i in range(3)]
    sent: list[list[float]] = [[], [], []]
    await vt.run(
        asyncio.gather(*(saturating(vt, c, s) for c, s in zip(clients, sent, strict=True)))
    )
    everything = [t for each in sent for t in each]
    assert len(everything) >= 0.97 * RPM / 60 * SECONDS
    assert max_in_any_second(everything) <= RPM / 60 + 1
    for each in sent:
        assert 0.28 <= len(each) / len(everything) <= 0.39
    assert limiter.calls <= len(everything) / 10  # no stream of refusals
