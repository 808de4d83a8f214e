"""Concurrency slots: who holds which, and the rule for granting more.

Each granted request carries a slot, returned as ``released_slots`` when it completes. A
caller that still has work keeps the slots of its finished requests and reports them as
``spare_slots`` with its next lease, whose requests reuse them before taking new ones. So
``free_slots`` in the lease formula of :mod:`~deluge_ray.ratelimit._core` is really ``held + new`` (every slot the caller will hold, busy or
not; ``new = min(n - spare, max_concurrent - in_use)``), and the caller sends a request
only while it has a slot free. When concurrency, not rate, is the limit, a lease is then
about as large as the caller's share of the slots, instead of as large as the few slots
freed since its last call, which would cost one actor call per handful of requests. A
caller keeps at most ``slot_cap = ceil(max_concurrent / k)`` slots (its fair share) and
gives every spare slot back once it has nothing waiting. A caller may hold more than its
share while nobody else needs the slots; but once a lease leaves some caller below
``min(slot_cap, want_requests)`` for want of a free slot, every other caller's leases are
held to ``n <= slot_cap`` with no new slot beyond ``slot_cap`` (until that caller's next
lease leaves it at or above that line, it stops asking, or it falls silent for
``active_seconds``). A caller above its share then holds more slots than its lease has
requests, so the surplus is spare and goes back as its requests end, and the caller
short of slots takes them on its next call. (Before this rule, 10 callers sharing 5,000
slots of 10 s requests kept one caller at 0 slots for three waves: the slots held beyond
the share stayed reserved for the holders' own leased requests.) A
caller silent for ``slot_reclaim_seconds`` (default 120 s) is presumed dead (a killed actor,
a lost node) and its slots return to everyone; a live caller reports every time one of its
requests ends, so only a request running longer than that without any other completion
could be double-counted, briefly. A caller known to be dead (its driver saw the actor die)
(or found dead by the limiter's own look-up, :mod:`~deluge_ray.ratelimit._holders`) is
released at once by :meth:`~deluge_ray.ratelimit._core.LimiterCore.release_caller`: its slots return to everyone and it
leaves the fair share. Its unsent leased requests are not credited back.

:class:`SlotBook` keeps that state for :class:`~deluge_ray.ratelimit._core.LimiterCore`,
which calls it once per lease.

>>> book = SlotBook(max_concurrent=4)
>>> book.size("a", 10, spare=0, k=1, want=10, now=0.0)
(4, 4, 4)
>>> book.take("a", 4); book.size("b", 10, spare=0, k=2, want=10, now=0.0) is None
True
"""

from __future__ import annotations

import math

__all__ = ["SlotBook"]


class SlotBook:
    """The concurrency slots of one limiter (see the module docstring for the rule).

    ``max_concurrent=None``: no concurrency limit; what callers hold is still counted.
    """

    def __init__(self, max_concurrent: int | None) -> None:
        self.max_concurrent = max_concurrent
        self.in_use = 0
        self.held: dict[str, int] = {}  # caller -> concurrency slots it holds
        # Callers left below their fair share of slots for want of a free one: caller ->
        # when that last happened.
        self._short: dict[str, float] = {}

    def size(
        self, caller_id: str, n: int, spare: int, k: int, want: int, now: float
    ) -> tuple[int, int, int | None] | None:
        """``(requests, new slots, slot_cap)`` for a lease of ``n`` requests the rate
        allows, of which the caller's reported ``spare`` slots carry some; ``None``: the
        caller holds no slot and none is free (refuse). ``k`` callers compete."""
        held = self.held.get(caller_id, 0)
        spare = max(0, min(spare, held))
        new_slots = max(0, n - spare)  # the caller's spare slots carry the rest
        if self.max_concurrent is None:
            return n, new_slots, None
        slot_cap = math.ceil(self.max_concurrent / k)
        if any(other != caller_id for other in self._short):
            # Someone is below its share for want of a slot: this caller grows no further
            # than its own share, and leases no more requests than that, so the slots it
            # holds beyond it are spare, and given back, as its requests end.
            new_slots = min(new_slots, max(0, slot_cap - held))
            n = min(n, slot_cap)
        free = max(0, self.max_concurrent - self.in_use)
        if new_slots > free and held + free < min(slot_cap, want):
            self._short[caller_id] = now  # below its share for want of a slot
        else:
            self._short.pop(caller_id, None)
        new_slots = min(new_slots, free)
        if held + new_slots <= 0:
            return None
        # At most one request per slot the caller will hold: more could not be sent before
        # the slice ends, and unsent requests would come back as lost rate.
        return min(n, held + new_slots), new_slots, slot_cap

    def take(self, caller_id: str, new_slots: int) -> None:
        """The caller was granted ``new_slots`` more."""
        self.in_use += new_slots
        self.held[caller_id] = self.held.get(caller_id, 0) + new_slots

    def release(self, caller_id: str, slots: int) -> None:
        """The caller gave ``slots`` back (its report)."""
        self.in_use = max(0, self.in_use - slots)
        self.held[caller_id] = max(0, self.held.get(caller_id, 0) - slots)

    def stop_competing(self, caller_id: str) -> None:
        """The caller asks for nothing now, or fell silent: it is short of nothing."""
        self._short.pop(caller_id, None)

    def forget(self, caller_id: str) -> int:
        """Drop a caller (dead, or silent too long); returns the slots it held."""
        self._short.pop(caller_id, None)
        held = self.held.pop(caller_id, 0)
        self.in_use = max(0, self.in_use - held)
        return held
