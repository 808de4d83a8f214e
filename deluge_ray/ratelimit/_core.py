"""Pure rate-limit logic for one provider key, driven by an injected clock.

:class:`LimiterCore` is what the ``RateLimiter`` actor wraps. Callers never ask for one
request at a time: they *lease* a block of capacity (about ``lease_seconds`` of the rate)
together with the time slice over which to spread its sends, and give back what they did
not use through the :class:`UsageReport` that rides on their next lease.

Buckets
-------
Requests and tokens each have a bucket that refills continuously::

    rate  = per_minute / 60                                  (units per second)
    cap   = rate * bucket_seconds                            (a fraction of a second)
    level(t) = min(cap, level(t0) + rate * (t - t0))

The cap is small on purpose (pacing, not bursting): providers enforce per-minute limits over
windows of about a second, so idle time earns at most ``bucket_seconds`` of credit. A new
limiter starts at level 0. A level below zero is capacity already promised for the near
future (a lease reserves ahead, so callers never stall on an actor round trip) or debt
(a response used more tokens than its estimate).

Granting
--------
A lease of ``n`` requests of ``t`` tokens costs ``n`` from the request bucket and ``n*t``
from the token bucket. With ``k`` callers competing (they asked for capacity in the last
``active_seconds``; a call asking for nothing withdraws the caller at once) and
``block`` the lease size (below), each bucket may be reserved up to ``horizon`` seconds ahead::

    slice   = min(time one block takes at the rate, max_lease_seconds)
    horizon = (2k + 1) * slice          (room for every caller to hold about one block ahead)
    avail   = floor((level + rate*horizon) / unit) + 1   if level + rate*horizon >= 0, else 0

(``unit`` is 1 request or ``t`` tokens; the ``+ 1`` lets one request overdraw, so a request
larger than the bucket still goes, as debt, once the bucket is back at its floor.) Then::

    n = min(want, block, avail_requests, avail_tokens, fair, free_slots)
    fair = floor(min(avail) / k)        (a caller gets at most its share when several ask)

A caller whose reserved sends still reach more than one slice ahead gets nothing until they
do not (``retry_in = reserved_until - now - slice``): every caller holds about one block
ahead, whoever asks first. A lease smaller than ``need = max(1, min(want, block // 2))`` is
refused (tiny leases would
cost one actor call per request); so is everything during a 429 cooldown. A refusal says when
to ask again::

    retry_in = max over buckets of ((m - 1)*unit - level - rate*horizon) / rate,  m = need*k

The block is ``rate*lease_seconds`` requests, raised to ``min_lease_requests`` when that fits
in ``max_lease_seconds`` (so one actor call covers at least twenty requests wherever the rate
allows), and lowered to what the token rate allows for ``t``-token requests.

Waiting (the time slice)
------------------------
The sends of a lease are due when the buckets have refilled enough to cover them, and are
never faster than the rate. Measured from the grant, for each bucket with cost ``c``::

    ends_in   = max over buckets of max(c / rate, (c - level) / rate)
    starts_in = ends_in - max over buckets of c / rate

so the caller spreads its ``n`` sends evenly over ``[starts_in, ends_in]``. Slices are
relative because the limiter and its callers run in different processes, often on
different machines, whose monotonic clocks cannot be compared. Over any interval ``T`` the
limiter grants at most ``cap + rate*T`` plus one request, and at saturation (level <= 0)
slices follow one another without overlap.

Priorities
----------
A lease may name its :class:`~deluge_ray.ratelimit._priority.Tenant`: the client behind
the caller (a client's requests may go through several callers), its priority level and
its weight. When two or more clients are active, each client's *entitlement* ``e_x`` (a
share of the rate over the last ``W = active_seconds``) follows from priority, weight,
demand and the floor ``phi`` (``floor_fraction``, 5 %) each lower class keeps::

    give(L) = min(D_L, left(L) - sum over lower active classes j of min(phi, D_j))

and, while another client asks for whole blocks (saturating), a caller of client ``x``
gets at most ``floor((e_x - u_x) * rate * W)`` requests, ``u_x`` being its share of the
window already granted; below one it is refused for a slice if a saturating client is
below its entitlement, else granted one (quota never idles).
A higher class jumps the queue
by a *priority credit* held back from lower-class grants. The full rule, with its formulas, is in
:mod:`deluge_ray.ratelimit._priority`.

Concurrency slots
-----------------
Each granted request carries a slot; who holds which, and the rule for granting more (fair
shares, spare slots, a caller short of its share), is :mod:`deluge_ray.ratelimit._slots`.

Restarts (the exact rule)
-------------------------
Each instance has an ``incarnation`` id, carried in every :class:`Lease` and
:class:`UsageReport`. A lost limiter comes back (``restarted=True``) with no memory of the
leases its previous incarnation granted, and the callers holding them keep sending until
they next hear from the new one. So a restarted instance starts in debt::

    level(t0) = -rate * restart_hold_seconds          (each bucket, t0 = its start)

By the slice rule (Waiting, above) its first sends are then due ``restart_hold_seconds``
after it starts, and from then on at the rate: the old incarnation's grants are assumed
spent at the full rate until ``t0 + restart_hold_seconds``. The default, 3 s, covers what
an old instance has reserved ahead at saturation (each competing caller about one slice,
at most ``max_lease_seconds``, ahead: three callers at the longest slices, more at
shorter ones); grants reaching further ahead than that could overlap the new ones.

* A report about an earlier incarnation's leases gives nothing back (returned requests,
  tokens and slots were never granted by this one); its 429s and headers still count.
* No slots are known to be in use: callers drop the old incarnation's slots and take new
  ones, and a request still in flight keeps its caller from using a new slot until it ends.
* A caller (``LeaseClient``) that receives a lease of another incarnation than its
  previous one drops everything it holds from the old one (leases, slots, the queued
  report) without giving it back, and sends only from the new lease.

Learning from the provider (the exact rule)
-------------------------------------------
* 429: every grant stops until ``now + retry_after`` (or ``default_cooldown`` when the
  provider gave none), and any credit is dropped (``level = min(level, 0)``).
* ``limit-*`` header lower than the configured limit: the header's value becomes the limit
  (it is the provider's word; a later header may raise it again, never above the configured
  limit).
* ``remaining-*`` below ``low_water`` (10 %) of the limit: when we pace alone at or below the
  limit, the provider's own bucket stays nearly full, so a nearly empty one means others use
  the same quota. The rate is scaled by ``max(min_shared_fraction, remaining /
  (low_water*limit))`` until ``max(1 s, reset)`` from now, and the bucket level is lowered to
  ``remaining``. The next observation replaces the factor (a healthy one clears it).

>>> now = [0.0]
>>> core = LimiterCore(rpm=600, tpm=None, max_concurrent=None, clock=lambda: now[0])
>>> lease = core.lease("a", want_requests=100, tokens_per_request=0)
>>> lease.requests, lease.starts_in, lease.ends_in
(10, 0.0, 1.0)
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..errors import ConfigurationError
from ._bucket import Bucket
from ._priority import PriorityBook, Tenant, tenant_caller_id
from ._records import Lease, UsageReport
from ._slots import SlotBook

if TYPE_CHECKING:
    from ._headers import RateLimitObservation

__all__ = ["Lease", "LimiterCore", "UsageReport"]


def _check_limit(name: str, value: float | None) -> None:
    if value is not None and not value > 0:
        raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}")


class LimiterCore:
    """Request, token and concurrency limits shared by many callers; see the module doc.

    Every method is a pure function of the injected ``clock`` and the calls so far.

    >>> t = [0.0]
    >>> core = LimiterCore(rpm=600, tpm=100_000, max_concurrent=2, clock=lambda: t[0])
    >>> core.lease("a", 5, 100).requests       # two slots, so at most two requests
    2
    >>> core.max_request_tokens()
    100000
    """

    def __init__(
        self,
        rpm: float | None,
        tpm: float | None,
        max_concurrent: int | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        bucket_seconds: float = 0.25,
        lease_seconds: float = 0.25,
        min_lease_requests: int = 20,
        max_lease_seconds: float = 1.0,
        unlimited_lease_requests: int = 1000,
        active_seconds: float = 2.0,
        default_cooldown: float = 1.0,
        low_water: float = 0.1,
        min_shared_fraction: float = 0.1,
        slot_reclaim_seconds: float = 120.0,
        restarted: bool = False,
        restart_hold_seconds: float = 3.0,
        incarnation: str | None = None,
        floor_fraction: float = 0.05,
    ) -> None:
        for name, value in (("rpm", rpm), ("tpm", tpm), ("max_concurrent", max_concurrent)):
            _check_limit(name, value)
        self._clock = clock
        # A caller silent this long is presumed dead (killed actor, lost node): the slots it
        # held go back to everyone. A live caller reports at least every time a request ends.
        self.slot_reclaim_seconds = slot_reclaim_seconds
        self._lease_seconds = lease_seconds
        self._min_lease_requests = min_lease_requests
        self._max_lease_seconds = max_lease_seconds
        self._unlimited_lease_requests = unlimited_lease_requests
        self._active_seconds = active_seconds
        self._default_cooldown = default_cooldown
        self._low_water = low_water
        self._min_shared_fraction = min_shared_fraction

        now = clock()
        self._rpm, self._tpm, self._max_concurrent = rpm, tpm, max_concurrent
        self._learnt = {"requests": None, "tokens": None}  # limits from limit-* headers
        self._shared = {"requests": (1.0, now), "tokens": (1.0, now)}  # (factor, until)
        self._requests = Bucket(rpm, bucket_seconds, now)
        self._tokens = Bucket(tpm, bucket_seconds, now)
        # Which instance granted a lease: callers drop leases of an earlier one.
        self.incarnation = incarnation or uuid.uuid4().hex[:12]
        self.restarted = restarted
        if restarted:
            # The old incarnation's grants are still being spent: see "Restarts".
            for bucket in (self._requests, self._tokens):
                bucket.level = -bucket.rate * restart_hold_seconds
        self._cooldown_until = now
        self._slots = SlotBook(max_concurrent)
        # Callers competing for capacity: caller -> when it last asked for some. A caller
        # whose call asks for nothing (it has no work left) leaves at once, so it does not
        # shrink the others' fair share.
        self._callers: dict[str, float] = {}
        self._reserved_until: dict[str, float] = {}  # caller -> end of its latest slice
        self._last_seen: dict[str, float] = {}  # caller -> its latest call of any kind
        # Clients behind the callers, their priorities and recent grants: see "Priorities".
        self._priorities = PriorityBook(window=active_seconds, floor_fraction=floor_fraction)
        self._counts = dict.fromkeys(
            (
                "lease_calls",
                "grants",
                "refusals",
                "granted_requests",
                "granted_tokens",
                "returned_requests",
                "cooldowns",
                "rate_limited",
                "completed",
                "reclaimed_slots",
                "released_callers",
            ),
            0,
        )

    # ----------------------------------------------------------------- limits
    def set_limits(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        max_concurrent: int | None = None,
    ) -> None:
        """Change the configured limits; ``None`` keeps a limit as it is.

        >>> core = LimiterCore(rpm=60, tpm=None, max_concurrent=None, clock=lambda: 0.0)
        >>> core.set_limits(rpm=120); core.effective_limits()["rpm"]
        120
        """
        for name, value in (("rpm", rpm), ("tpm", tpm), ("max_concurrent", max_concurrent)):
            _check_limit(name, value)
        if rpm is not None:
            self._rpm = rpm
        if tpm is not None:
            self._tpm = tpm
        if max_concurrent is not None:
            self._max_concurrent = self._slots.max_concurrent = max_concurrent
        self._update_rates(self._clock())

    def _base_limit(self, dim: str) -> float | None:
        """Configured limit lowered by a ``limit-*`` header, without the temporary factor."""
        configured = self._rpm if dim == "requests" else self._tpm
        learnt = self._learnt[dim]
        if learnt is None:
            return configured
        return learnt if configured is None else min(configured, learnt)

    def _effective(self, dim: str, now: float) -> float | None:
        base = self._base_limit(dim)
        factor, until = self._shared[dim]
        if base is None or now >= until:
            return base
        return base * factor

    def _update_rates(self, now: float) -> None:
        for dim, bucket in (("requests", self._requests), ("tokens", self._tokens)):
            per_minute = self._effective(dim, now)
            if per_minute != bucket.per_minute:
                bucket.set_per_minute(per_minute, now)
            else:
                bucket.refill(now)

    def effective_limits(self) -> dict[str, Any]:
        """The limits in force now: configured, lowered by what the provider said."""
        now = self._clock()
        return {
            "rpm": self._effective("requests", now),
            "tpm": self._effective("tokens", now),
            "max_concurrent": self._max_concurrent,
        }

    def max_request_tokens(self) -> int | None:
        """The largest single request (in tokens) that can ever be sent: the per-minute budget.

        ``None`` when tokens are not limited. The client rejects bigger requests at submit time.
        """
        base = self._base_limit("tokens")
        return None if base is None else int(base)

    # ---------------------------------------------------------------- reports
    def release(self, caller_id: str, report: UsageReport) -> None:
        """Apply a report without asking for capacity (a caller closing down)."""
        now = self._clock()
        self._update_rates(now)
        self._apply_report(caller_id, report, now)
        self._forget(caller_id)

    def release_caller(self, caller_id: str) -> int:
        """Forget a caller known to be dead, at once; returns the slots it held.

        The driver calls this (through the actor) when it sees a caller actor die, so the
        dead caller's slots do not wait ``slot_reclaim_seconds``. Unknown ids are ignored.
        An actor leasing for several clients leases under ``tenant_caller_id(actor,
        client)``: all of those are released with it.

        >>> core = LimiterCore(rpm=None, tpm=None, max_concurrent=4, clock=lambda: 0.0)
        >>> core.lease("a", 10).slots, core.release_caller("a"), core.lease("b", 10).slots
        (4, 4, 4)
        """
        self._update_rates(self._clock())
        prefix = tenant_caller_id(caller_id, "x")[:-1]
        held = self._forget(caller_id)
        for other in [c for c in self._last_seen if c.startswith(prefix)]:
            held += self._forget(other)
        self._counts["released_callers"] += 1
        self._counts["reclaimed_slots"] += held
        return held

    def _forget(self, caller_id: str) -> int:
        """Drop a caller, giving back any slots it still holds; returns how many."""
        self._callers.pop(caller_id, None)
        self._reserved_until.pop(caller_id, None)
        self._last_seen.pop(caller_id, None)
        held = self._slots.forget(caller_id)
        self._priorities.forget(caller_id)
        return held

    def _apply_report(self, caller_id: str, report: UsageReport, now: float) -> None:
        # Capacity given back from another incarnation was never granted by this one:
        # crediting it would undo the restart hold. What the provider said still counts.
        if report.incarnation in ("", self.incarnation):
            self._requests.credit(report.returned_requests)
            # A positive correction (used more than estimated) may push the level below 0.
            self._tokens.credit(report.returned_tokens - report.token_correction)
            self._slots.release(caller_id, report.released_slots)
            self._counts["returned_requests"] += report.returned_requests
        self._counts["completed"] += report.completed
        if report.observation is not None:
            self._learn(report.observation, now)
        if report.rate_limited:
            wait = report.retry_after
            if wait is None and report.observation is not None:
                wait = report.observation.retry_after
            if wait is None:
                wait = self._default_cooldown
            self._cooldown_until = max(self._cooldown_until, now + wait)
            self._requests.level = min(self._requests.level, 0.0)
            self._tokens.level = min(self._tokens.level, 0.0)
            self._counts["cooldowns"] += 1
            self._counts["rate_limited"] += report.rate_limited

    def _learn(self, obs: RateLimitObservation, now: float) -> None:
        readings = (
            ("requests", self._requests, obs.limit_requests, obs.remaining_requests, obs.reset_requests),
            ("tokens", self._tokens, obs.limit_tokens, obs.remaining_tokens, obs.reset_tokens),
        )  # fmt: skip
        for dim, bucket, limit, remaining, reset in readings:
            if limit is not None and limit > 0:
                self._learnt[dim] = limit
            known_limit = limit if limit else self._base_limit(dim)
            if remaining is None or not known_limit:
                continue
            threshold = self._low_water * known_limit
            if remaining < threshold:
                factor = max(self._min_shared_fraction, remaining / threshold)
                self._shared[dim] = (factor, now + max(1.0, reset or 0.0))
                bucket.refill(now)
                bucket.level = min(bucket.level, float(remaining))
            else:
                self._shared[dim] = (1.0, now)
        self._update_rates(now)

    # ----------------------------------------------------------------- leases
    def _block(self, tokens_per_request: int) -> int:
        sizes = []
        for bucket, unit in ((self._requests, 1), (self._tokens, tokens_per_request)):
            if bucket.limited and unit > 0:
                rate = bucket.rate
                units = max(
                    rate * self._lease_seconds,
                    min(self._min_lease_requests * unit, rate * self._max_lease_seconds),
                )
                sizes.append(units / unit)
        if not sizes:
            return self._unlimited_lease_requests
        return max(1, math.floor(min(sizes)))

    def _duration(self, n: int, tokens_per_request: int) -> float:
        """Seconds ``n`` requests take at the rate (the length of their time slice)."""
        spans = [0.0]
        for bucket, cost in ((self._requests, n), (self._tokens, n * tokens_per_request)):
            if bucket.limited and cost > 0:
                spans.append(cost / bucket.rate)
        return max(spans)

    def lease(
        self,
        caller_id: str,
        want_requests: int,
        tokens_per_request: int = 0,
        report: UsageReport | None = None,
        tenant: Tenant | None = None,
    ) -> Lease:
        """Apply ``report``, then grant up to ``want_requests`` requests or say when to retry.

        ``want_requests=0`` only delivers the report. ``tenant`` names the client behind
        the caller and its priority (see "Priorities"); ``None`` keeps the caller's last.

        >>> t = [0.0]
        >>> core = LimiterCore(rpm=6000, tpm=None, max_concurrent=None, clock=lambda: t[0])
        >>> core.lease("a", 1000).requests      # one block: 0.25 s of 100 requests/s
        25
        """
        now = self._clock()
        self._counts["lease_calls"] += 1
        self._update_rates(now)
        if report is not None:
            self._apply_report(caller_id, report, now)
        self._last_seen[caller_id] = now
        for other, seen in list(self._last_seen.items()):
            if now - seen > self.slot_reclaim_seconds:
                self._counts["reclaimed_slots"] += self._forget(other)
        for other, seen in list(self._callers.items()):
            if now - seen > self._active_seconds:
                del self._callers[other]
                self._reserved_until.pop(other, None)
                self._slots.stop_competing(other)
        if want_requests <= 0:
            self._callers.pop(caller_id, None)  # nothing left to send: not competing
            self._slots.stop_competing(caller_id)
            return Lease(incarnation=self.incarnation)
        self._callers[caller_id] = now
        if now < self._cooldown_until:
            return self._refuse(self._cooldown_until - now)

        t = max(0, int(tokens_per_request))
        k = max(1, len(self._callers))
        block = self._block(t)
        # Giant requests would make one slice minutes long; never reserve that far ahead.
        slice_seconds = min(self._duration(block, t), self._max_lease_seconds)
        horizon = (2 * k + 1) * slice_seconds
        per_request = self._share(1, t)
        self._priorities.note(
            caller_id, tenant, want_requests >= block, min(want_requests, block) * per_request
        )
        ahead = self._reserved_until.get(caller_id, now) - now
        if ahead > slice_seconds:
            return self._refuse(ahead - slice_seconds)
        buckets = ((self._requests, 1), (self._tokens, t))
        avail = min(b.available(unit, horizon) for b, unit in buckets)
        fair = avail if k == 1 else avail // k
        need = max(1, min(want_requests, block // 2))
        self._priorities.request_share = per_request
        fair = max(fair, self._priorities.jump_size(caller_id, self._callers, now))
        cap = self._priorities.cap_for(caller_id, self._callers, now)
        if cap is not None and per_request > 0:
            # Another client is below its entitlement and takes what we leave: take no
            # more than ours.
            allowed = math.floor(cap / per_request + 1e-6)
            if allowed < 1:
                return self._refuse(slice_seconds)
            fair, need = min(fair, allowed), min(need, allowed)
        if fair < need:
            items = need * k if k > 1 else need
            return self._refuse(max(b.wait_for(items, u, horizon) for b, u in buckets))

        n = int(min(want_requests, block, fair))
        spare = report.spare_slots if report is not None else 0
        sized = self._slots.size(caller_id, n, spare, k, want_requests, now)
        if sized is None:
            # Slots come back on other callers' next reports; poll at half a block's pace.
            return self._refuse(max(0.01, self._duration(block, t) / 2))
        n, new_slots, slot_cap = sized

        ends_in, span = self._charge(caller_id, n, t, now)
        self._slots.take(caller_id, new_slots)
        self._reserved_until[caller_id] = now + ends_in
        self._counts["grants"] += 1
        self._counts["granted_requests"] += n
        self._counts["granted_tokens"] += n * t
        self._priorities.record_grant(now, caller_id, self._share(n, t))
        return Lease(
            requests=n,
            tokens=n * t,
            slots=new_slots,
            starts_in=ends_in - span,
            ends_in=ends_in,
            slot_cap=slot_cap,
            incarnation=self.incarnation,
        )

    def _share(self, n: int, t: int) -> float:
        """``n`` requests of ``t`` tokens as a share of ``rate * active_seconds`` (largest)."""
        shares = [0.0]
        for bucket, cost in ((self._requests, n), (self._tokens, n * t)):
            if bucket.limited and bucket.rate > 0:
                shares.append(cost / (bucket.rate * self._active_seconds))
        return max(shares)

    def _charge(self, caller_id: str, n: int, t: int, now: float) -> tuple[float, float]:
        """Take a grant from the buckets (or the priority credit); ``(ends_in, span)``."""
        costs = [
            (name, bucket, cost)
            for name, bucket, cost in (("requests", self._requests, n), ("tokens", self._tokens, n * t))
            if bucket.limited and cost > 0
        ]  # fmt: skip
        return self._priorities.charge(caller_id, self._callers, costs, t, now)

    def _refuse(self, retry_in: float) -> Lease:
        self._counts["refusals"] += 1
        return Lease(retry_in=max(retry_in, 1e-3), incarnation=self.incarnation)

    # ------------------------------------------------------------------ stats
    def stats(self) -> dict[str, Any]:
        """Counters and the limits in force, for progress displays and benchmarks."""
        now = self._clock()
        return {
            **self._counts,
            **self.effective_limits(),
            "in_use": self._slots.in_use,
            "active_callers": sum(
                1 for seen in self._callers.values() if now - seen <= self._active_seconds
            ),
            "cooling_down_for": max(0.0, self._cooldown_until - now),
            "incarnation": self.incarnation,
            "restarted": self.restarted,
        }

    def status_state(self) -> dict[str, Any]:
        """Read-only raw state for ``LimiterService.status`` (levels as of now, unrefilled)."""
        now = self._clock()

        def level(bucket: Bucket) -> float | None:
            if not bucket.limited:
                return None
            return min(bucket.cap, bucket.level + bucket.rate * max(0.0, now - bucket.updated))

        return {
            "now": now,
            "configured": {"rpm": self._rpm, "tpm": self._tpm},
            "learnt": {"rpm": self._learnt["requests"], "tpm": self._learnt["tokens"]},
            "effective": {"rpm": self._effective("requests", now), "tpm": self._effective("tokens", now)},
            "max_concurrent": self._max_concurrent,
            "levels": {"requests": level(self._requests), "tokens": level(self._tokens)},
            "in_use": self._slots.in_use,
            "slots_held": dict(self._slots.held),
            "tenants": dict(self._priorities.tenants),
            "cooldown_s": max(0.0, self._cooldown_until - now),
            "counts": dict(self._counts),
            "incarnation": self.incarnation,
            "restarted": self.restarted,
        }  # fmt: skip
