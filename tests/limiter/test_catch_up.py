"""A caller that fell behind its lease's schedule must not spend the missed turns at once.

Three callers (three nodes) share 3,000 RPM. One caller's event loop stalls for 300 ms
(a loaded node, a long GC pause): its pacing sleep wakes late. Sending every turn it
missed on waking would put them into the next one-second window on top of that window's
own share of the rate, which is what a provider enforcing per-second windows refuses; and
giving those turns back to the limiter would let it grant them again over a slice it has
already granted (see the catch-up rule in ``deluge_ray/ratelimit/_held_lease.py``).
"""

from __future__ import annotations

import pytest

from deluge_ray.ratelimit._lease_client import LeaseClient
from tests.support.rates import max_in_any_second

from .test_lease_client import saturate
from .virtual_time import InProcessLimiter, VirtualTime

RATE = 50  # requests per second (3,000 RPM)


def stalling_sleep(vt: VirtualTime, at: float, stall: float):
    """``vt.sleep``, except that the first pacing sleep started after ``at`` wakes ``stall``
    seconds late (the loop was busy elsewhere)."""
    stalled = []

    async def sleep(delay: float) -> None:
        late = 0.0
        if not stalled and vt.now >= at and delay < 0.1:  # a turn's wait, not a retry
            stalled.append(vt.now)
            late = stall
        await vt.sleep(delay + late)

    return sleep


@pytest.mark.parametrize(("at", "stall"), [(4.8, 0.3), (4.1, 0.3), (4.5, 0.8)])
async def test_a_stalled_caller_does_not_burst_its_missed_turns(at: float, stall: float) -> None:
    vt = VirtualTime()
    limiter = InProcessLimiter(vt, rpm=60 * RATE)
    clients = [
        LeaseClient(
            limiter,
            f"node-{i}",
            clock=vt.clock,
            sleep=stalling_sleep(vt, at, stall) if i == 1 else vt.sleep,
        )
        for i in range(3)
    ]
    sent = await vt.run(saturate(vt, clients, seconds=10.0, workers_per_client=20, latency=0.3))
    # As tight as one node: at most one send over the rate in any one-second window
    # (plus the few turns a lease may run behind, see CATCH_UP_S).
    assert max_in_any_second(sent) <= RATE + 3
    assert clients[1].lapsed > 0  # the stalled caller kept its missed turns to itself
    # What the stalled caller could not send in time is lost, nothing more: the other
    # callers keep the rate, and the stalled one resumes at once.
    assert len(sent) >= RATE * (10 - stall) - 5
