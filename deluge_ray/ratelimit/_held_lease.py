"""A granted lease as its caller holds it: when each of its sends is due, on the caller's clock.

The limiter grants ``n`` requests with a time slice ``[starts_in, ends_in]`` relative to the
grant (see "Waiting" in :mod:`deluge_ray.ratelimit._core`). The caller places the slice on
its own clock when the grant arrives and sends turn ``i`` at ``start + i * spacing``.

The catch-up rule
-----------------
A caller can fall behind that schedule: its event loop stalled (a loaded node, a long
garbage collection), its lease reply came late, or every slot was busy. Sending every
missed turn on waking would put them into the provider's next one-second window on top
of that window's own share of the rate: with three callers at 3,000 RPM, one caller
stalled for 300 ms sent its 15 missed turns at once and a one-second window saw 65
requests against 50 (``tests/limiter/test_catch_up.py``). So a lease's sends never run
more than ``catch_up`` seconds behind its schedule: when a caller is further behind, its
remaining turns slide later, to ``catch_up`` seconds before now. The slice's end does not
move.

What goes back to the limiter
-----------------------------
A retired lease gives back its unsent turns (:meth:`HeldLease.returnable`), except, when
its caller overslept a turn (``late``: the stall above), the turns whose time went by. The
limiter credits returned requests to a bucket whose level, at saturation, stands for
slices already granted to others: crediting turns of time gone by would place the next
grant over one of those, and two callers would send at once (the same test saw 63 in a
window after the stalled caller gave its 12 missed turns back). Turns left unused because
nothing waited to be sent, or because every concurrency slot was busy, still go back:
there the limiter's share rules and slot sizing count on them, and they are what lets
other callers (another client, a higher priority class) use that capacity.

Why not simply drop the missed turns: sliding keeps the lease usable until its end. A
lease shorter than :data:`MIN_HOLD_S` (a very high limit) has every turn due at once, and
a caller sending as its slots free up would otherwise lose the rest of it after
``catch_up`` and pay a limiter call for a new one.

    >>> held = HeldLease.granted(requests=4, tokens=0, now=10.0, starts_in=0.0, ends_in=0.4)
    >>> held.next_send_at(now=10.0, catch_up=0.05)          # on schedule: turn 0 at 10.0
    10.0
    >>> held.next_send_at(now=10.3, catch_up=0.05)          # 300 ms late: slide to 10.25
    10.25
    >>> held.late = True                                    # it overslept: of 4 unsent,
    >>> held.returnable(now=10.25)                          # one turn is still ahead
    1
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["CATCH_UP_S", "MIN_HOLD_S", "HeldLease"]

# The shortest time a lease stays usable, whatever its slice. Long against an actor round
# trip (about 1.5 ms here), short against the provider's one-second windows.
MIN_HOLD_S = 0.1

# How far behind its schedule a lease's sends may run (the catch-up rule above). 50 ms is
# 2.5 requests at 3,000 RPM: what a late caller may add to a one-second window. It is
# well above the wake-up jitter of an asyncio sleep on a busy node (a few ms), so a
# caller on time never slides.
CATCH_UP_S = 0.05


@dataclass
class HeldLease:
    """A granted lease on the caller's clock; see the module docstring."""

    requests: int  # sends left
    tokens: int  # token budget left (may go below zero: the overdraft is reported)
    start: float  # when turn 0 is due (moved later by the catch-up rule)
    spacing: float  # seconds between two sends
    size: int
    end: float  # no send after it: the slice's end, or MIN_HOLD_S after its start
    half_way: float  # the middle of the slice as granted: when to fetch the next lease
    slice_end: float  # the end of the slice as granted
    budgeted: bool = True  # False when requests came without token estimates
    sent: int = 0
    slides: int = 0  # times the catch-up rule moved the remaining turns later
    late: bool = False  # its caller overslept a turn (a stalled event loop)

    @classmethod
    def granted(
        cls,
        *,
        requests: int,
        tokens: int,
        now: float,
        starts_in: float,
        ends_in: float,
        budgeted: bool = True,
    ) -> HeldLease:
        """The lease a grant arriving at ``now`` (the caller's clock) describes."""
        start = now + starts_in
        length = ends_in - starts_in
        # A slice shorter than the time it takes to start using it (a very high limit makes
        # one lease span microseconds) would expire before its first send, and the client
        # would retire and re-fetch leases forever: hold every lease for MIN_HOLD_S at least.
        return cls(
            requests=requests,
            tokens=tokens,
            start=start,
            spacing=length / requests,
            size=requests,
            end=start + max(length, MIN_HOLD_S),
            half_way=start + length / 2,
            slice_end=start + length,
            budgeted=budgeted,
        )

    def has_room(self, now: float) -> bool:
        """Sends left, token budget left (when budgeted), and the slice not over."""
        tokens_ok = self.tokens > 0 or not self.budgeted
        return self.requests > 0 and tokens_ok and now < self.end

    def next_send_at(self, now: float, catch_up: float) -> float:
        """When the next turn is due, after sliding the schedule if it ran too far behind."""
        due = self.start + self.sent * self.spacing
        behind = now - due
        if behind > catch_up and self.spacing > 0:
            self.start += behind - catch_up
            self.slides += 1
            due = now - catch_up
        return due

    def returnable(self, now: float) -> int:
        """How many unsent requests to give back at ``now`` (see the module docstring)."""
        if not self.late or self.spacing <= 0:
            return self.requests
        ahead = max(0, math.floor((self.slice_end - now) / self.spacing + 1e-9))
        return min(self.requests, ahead)

    def take_turn(self, estimate: int) -> None:
        """One send of this lease, of ``estimate`` tokens."""
        self.requests -= 1
        self.tokens -= estimate
        self.sent += 1
