"""The caller side of the shared rate limiter: hold a lease, pace sends, batch reports.

A :class:`LeaseClient` lives inside each ProviderCaller actor (an asyncio program). Every
request does ``permit = await client.acquire(estimated_tokens)`` before it is sent and
``client.complete(permit, ...)`` when its response (or error) is in. The client talks to
the limiter only to renew its lease, about once per block of requests:

* ``acquire`` takes the next send of the current lease, waiting until its turn in the
  lease's time slice (the sends of one lease are spread evenly over the slice); a client
  that fell behind never spends its missed turns at once (the catch-up rule in
  :mod:`deluge_ray.ratelimit._held_lease`);
* when half of the slice is gone and more requests are waiting, the next lease is fetched
  in the background, so sends never stall on the actor round trip;
* all waiting ``acquire`` calls share that single in-flight lease request;
* ``complete`` only records things (actual - estimated tokens, 429s, the newest rate-limit
  headers); they ride on the next lease request. The request's concurrency slot stays with
  this client while more requests wait (reported as spare, so the next lease reuses it
  rather than waiting for the limiter to hand it back), and is released once nothing
  waits or the client holds more than the limiter's ``slot_cap`` (checked as each request
  ends and as each lease arrives: a lease held to ``slot_cap`` requests leaves the slots
  beyond them spare at once). Only a 429 while nobody
  is waiting, or slots left idle, cause a report-only call of their own;
* ``close`` gives back whatever is unused.

When the limiter restarts, a lease call may fail (the actor is being rebuilt): the client
retries it with a growing pause (``limiter_retry_seconds`` doubling up to
``limiter_retry_cap``, on the injected ``sleep``) for up to ``limiter_unavailable_timeout``
seconds, so a restart shows up as a short wait, never as a failed request. The first lease
from the new instance carries a new ``incarnation``: the client then drops everything it
holds from the old one (see "Restarts" in :mod:`deluge_ray.ratelimit._core`).

The ``limiter`` is anything with ``async lease(caller_id, want_requests, tokens_per_request,
report) -> Lease``: a ``RateLimiter`` actor handle through :meth:`LeaseClient.for_actor`,
or an in-process object wrapping ``LimiterCore`` in tests.

>>> import asyncio
>>> from deluge_ray.ratelimit._core import LimiterCore
>>> class Local:
...     def __init__(self): self.core = LimiterCore(rpm=6000, tpm=None, max_concurrent=None)
...     async def lease(self, *args): return self.core.lease(*args)
>>> async def main():
...     client = LeaseClient(Local(), "caller-1")
...     permit = await client.acquire(estimated_tokens=20)
...     client.complete(permit, actual_tokens=25)
...     await client.close()
...     return client.lease_calls
>>> asyncio.run(main())
2
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigurationError
from ._core import Lease, UsageReport
from ._headers import RateLimitObservation
from ._held_lease import CATCH_UP_S, HeldLease
from ._limiter_link import ActorLimiter, LimiterLike, LimiterUnavailable
from ._priority import Tenant

__all__ = ["LeaseClient", "Permit"]


@dataclass
class Permit:
    """The right to send one request; hand it back with :meth:`LeaseClient.complete`."""

    estimated_tokens: int
    done: bool = False


class LeaseClient:
    """Leases capacity from a shared limiter in blocks and paces sends over each block.

    ``rpm``/``tpm``/``max_concurrent`` are hints from the client configuration; ``tpm`` lets
    :meth:`acquire` refuse a request larger than the whole per-minute token budget.
    ``tenant`` (the client this lease client serves, with its priority) rides on every
    lease request; one LeaseClient serves one client, so its demand is that client's.
    """

    def __init__(
        self,
        limiter: LimiterLike,
        caller_id: str,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        rpm: float | None = None,
        tpm: float | None = None,
        max_concurrent: int | None = None,
        idle_flush_seconds: float = 0.25,
        default_cooldown: float = 1.0,
        limiter_retry_seconds: float = 0.05,
        limiter_retry_cap: float = 2.0,
        limiter_unavailable_timeout: float = 300.0,
        catch_up_seconds: float = CATCH_UP_S,
        tenant: Tenant | None = None,
    ) -> None:
        self._limiter = limiter
        self.caller_id = caller_id
        # Passed only when set, so a limiter without priorities keeps its 4-argument lease.
        self._tenant_args: tuple[Tenant, ...] = (tenant,) if tenant is not None else ()
        self._clock = clock
        self._sleep = sleep
        self.limits = {"rpm": rpm, "tpm": tpm, "max_concurrent": max_concurrent}
        self._idle_flush_seconds = idle_flush_seconds
        self._default_cooldown = default_cooldown
        self._limiter_retry_seconds = limiter_retry_seconds
        self._limiter_retry_cap = limiter_retry_cap
        self._limiter_unavailable_timeout = limiter_unavailable_timeout
        self._catch_up = catch_up_seconds  # see the catch-up rule in ratelimit._held_lease
        self._incarnation: str | None = None  # of the limiter instance we last heard from

        self._lock = asyncio.Lock()  # one acquirer at a time, in arrival order
        self._current: HeldLease | None = None
        self._next: HeldLease | None = None
        self._fetch: asyncio.Task[Lease] | None = None
        self._flush: asyncio.Task[None] | None = None
        self._retry_at = -math.inf
        self._cooldown_until = -math.inf
        self._report = UsageReport()
        self._report_retry_until: float | None = None  # absolute, on our clock
        self._urgent = False  # a 429 the limiter has not heard about yet
        self._waiting = 0
        self._waiting_tokens = 0
        self._last_full_lease = 0  # size of the last lease that demand used up
        # Concurrency slots granted to this client and not yet released, and the requests
        # now using one. A send needs a slot: in_flight < slots_held.
        self._slots_held = 0
        self._in_flight = 0
        self._slot_cap: int | None = None
        self._idle_release: asyncio.Task[None] | None = None
        self._slot_freed = asyncio.Event()
        self._closed = False
        self.lease_calls = 0
        self.granted_requests = 0
        self.refusals = 0
        self.sent = 0
        self.limiter_retries = 0
        self.restarts_seen = 0
        self.slides = 0  # times a lease's schedule slid under the catch-up rule
        self.lapsed = 0  # unsent requests not given back: a stalled lease's time gone by

    @classmethod
    def for_actor(cls, handle: Any, caller_id: str, **kwargs: Any) -> LeaseClient:
        """A LeaseClient talking to a ``RateLimiter`` actor handle."""
        return cls(ActorLimiter(handle), caller_id, **kwargs)

    # ---------------------------------------------------------------- acquire
    async def acquire(self, estimated_tokens: int = 0) -> Permit:
        """Wait for this request's turn to be sent and return its :class:`Permit`.

        Raises :class:`ConfigurationError` when ``estimated_tokens`` exceeds the whole
        per-minute token budget (such a request could never be sent).
        """
        tpm = self.limits["tpm"]
        if tpm is not None and estimated_tokens > tpm:
            raise ConfigurationError(
                f"a request estimated at {estimated_tokens} tokens exceeds the whole budget "
                f"of {int(tpm)} tokens per minute; shorten it or raise max_tokens_per_minute"
            )
        if self._closed:
            raise ConfigurationError("this LeaseClient is closed")
        estimate = max(0, int(estimated_tokens))
        self._waiting += 1
        self._waiting_tokens += estimate
        try:
            async with self._lock:
                return await self._take_turn(estimate)
        finally:
            self._waiting -= 1
            self._waiting_tokens -= estimate
            if self._waiting == 0:
                self._schedule_idle_release()

    async def _take_turn(self, estimate: int) -> Permit:
        while True:
            if self._closed:
                # Closed while this request waited: every grant would now be given straight
                # back (see _call_limiter), and asking again would never end.
                raise ConfigurationError("this LeaseClient was closed while a request waited")
            now = self._clock()
            held = self._usable_lease(now)
            if held is None:
                if self._urgent or now >= self._retry_at:
                    await self._fetch_lease()
                    continue
                await self._sleep(self._retry_at - now)
                continue
            if now < self._cooldown_until:  # a 429 we saw ourselves: stop sending
                self._drop_leases()
                continue
            send_at = held.next_send_at(now, self._catch_up)
            if send_at > now:
                self._maybe_prefetch(now, held, demand=self._waiting)
                await self._sleep(send_at - now)
                if self._clock() - send_at > self._catch_up:
                    held.late = True  # this caller stalled: see _held_lease
                continue  # re-check: a 429 may have dropped this lease meanwhile
            if self._in_flight >= self._slots_held:
                if self._in_flight == 0:
                    # No slot at all for this lease's sends (given back while its grant was
                    # on the way): return the lease and ask again, which brings slots.
                    self._drop_leases()
                    continue
                # Every slot is busy: wait for a request to finish, but no longer than
                # this lease lasts. Renewing it then is also how the limiter hears from
                # us while our requests run long: a caller silent for its
                # slot_reclaim_seconds is presumed dead, and its slots handed out again.
                await self._wait_for_slot(until=held.end)
                continue
            held.take_turn(estimate)
            self.sent += 1
            self._in_flight += 1
            self._maybe_prefetch(now, held, demand=self._waiting - 1)  # minus the one served
            return Permit(estimate)

    def _usable_lease(self, now: float) -> HeldLease | None:
        """The lease to send from, retiring used-up or stale ones."""
        while True:
            held = self._current
            if held is not None and held.has_room(now):
                return held
            if held is not None:
                self._retire(held)
            self._current, self._next = self._next, None
            if self._current is None:
                return None

    def _retire(self, held: HeldLease) -> None:
        """Give back what a lease did not use (on the next report)."""
        self.slides += held.slides
        held.slides = 0
        if held.requests == 0 or (held.budgeted and held.tokens <= 0):
            self._last_full_lease = held.size  # demand kept up with supply
        else:
            self._last_full_lease = 0
        # Unsent turns go back (their slots stay in our pool), except a stalled lease's
        # turns of time gone by, and their tokens with them: see _held_lease.
        back = held.returnable(self._clock())
        lapsed = held.requests - back
        self.lapsed += lapsed
        self._report.returned_requests += back
        if held.budgeted and held.tokens > 0:
            lapsed_tokens = held.tokens * lapsed // held.requests if lapsed else 0
            self._report.returned_tokens += held.tokens - lapsed_tokens
        elif held.budgeted:
            self._report.token_correction += -held.tokens  # overdraft of the last send
        held.requests = 0
        held.tokens = 0

    def _drop_leases(self) -> None:
        for held in (self._current, self._next):
            if held is not None:
                self._retire(held)
        self._current = self._next = None
        self._retry_at = max(self._retry_at, self._cooldown_until)

    async def _wait_for_slot(self, until: float) -> None:
        """Return when a request completes or ``until`` (on our clock) has passed."""
        self._slot_freed.clear()
        freed = asyncio.ensure_future(self._slot_freed.wait())
        timer = asyncio.ensure_future(self._sleep(max(0.0, until - self._clock())))
        try:
            await asyncio.wait({freed, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            freed.cancel()
            timer.cancel()

    def _spare_slots(self) -> int:
        """Slots held that neither a request in flight nor an unsent leased request needs."""
        reserved = sum(h.requests for h in (self._current, self._next) if h is not None)
        return max(0, self._slots_held - self._in_flight - reserved)

    def _release_spare_slots(self, at_most: int | None = None) -> None:
        """Report spare slots (all, or ``at_most`` of them) as released."""
        give_back = self._spare_slots()
        if at_most is not None:
            give_back = min(give_back, at_most)
        if give_back > 0:
            self._slots_held -= give_back
            self._report.released_slots += give_back

    def _want(self) -> int:
        left = self._current.requests if self._current is not None else 0
        uncovered = max(1, self._waiting - left)
        # While demand keeps using up whole leases, ask for twice as much: the limiter caps
        # it at one block, and a full block is what keeps lease calls rare.
        return max(uncovered, 2 * self._last_full_lease)

    def _tokens_per_request(self) -> int:
        if self._waiting <= 0:
            return 0
        return math.ceil(self._waiting_tokens / self._waiting)

    def _maybe_prefetch(self, now: float, held: HeldLease, demand: int) -> None:
        """Fetch the next lease in the background once half the slice is gone, if needed."""
        half_gone = now >= held.half_way
        more_wanted = demand > held.requests
        if (
            half_gone
            and more_wanted
            and self._next is None
            and (self._fetch is None or self._fetch.done())
            and now >= self._retry_at
            and not self._closed
        ):
            self._fetch = asyncio.get_running_loop().create_task(self._call_limiter(self._want()))

    async def _fetch_lease(self) -> None:
        """Wait for the in-flight lease request, starting one if there is none."""
        if self._fetch is None or self._fetch.done():
            # One loop turn first, so acquires started together are counted in ``want``.
            await asyncio.sleep(0)
        if self._fetch is None or self._fetch.done():
            self._fetch = asyncio.get_running_loop().create_task(self._call_limiter(self._want()))
        await self._fetch

    # ------------------------------------------------------------ limiter I/O
    def _take_report(self) -> UsageReport | None:
        report, self._report = self._report, UsageReport()
        if self._report_retry_until is not None:
            report.retry_after = max(0.0, self._report_retry_until - self._clock())
            self._report_retry_until = None
        self._urgent = False
        if report.is_empty():
            return None
        report.incarnation = self._incarnation or ""
        return report

    def _restore_report(self, report: UsageReport | None) -> None:
        """Put a report that never arrived back in front of the queue."""
        if report is None:
            return
        queued = self._report
        for name in (
            "returned_requests",
            "returned_tokens",
            "released_slots",
            "token_correction",
            "rate_limited",
            "completed",
        ):
            setattr(queued, name, getattr(queued, name) + getattr(report, name))
        if queued.observation is None:
            queued.observation = report.observation
        if report.rate_limited:
            self._urgent = True
            if report.retry_after is not None:
                until = self._clock() + report.retry_after
                self._report_retry_until = max(self._report_retry_until or until, until)

    async def _call_limiter(self, want: int) -> Lease:
        report = self._take_report()
        spare = self._spare_slots()
        if want > 0 and spare > 0:
            report = report or UsageReport()
            report.spare_slots = spare
        tokens = self._tokens_per_request() if want > 0 else 0
        try:
            lease = await self._lease_retrying(want, tokens, report)
        except BaseException:
            self._restore_report(report)
            raise
        now = self._clock()
        if lease.incarnation and lease.incarnation != self._incarnation:
            if self._incarnation is not None:
                self._forget_old_incarnation()
            self._incarnation = lease.incarnation
        self._slots_held += lease.slots
        if lease.slots:
            self._slot_freed.set()
        if want > 0:
            self._slot_cap = lease.slot_cap
        if lease.granted:
            self.granted_requests += lease.requests
            held = HeldLease.granted(
                requests=lease.requests,
                tokens=lease.tokens,
                now=now,
                starts_in=lease.starts_in,
                ends_in=lease.ends_in,
                budgeted=tokens > 0,
            )
            if self._closed:
                self._retire(held)
            elif self._current is None:
                self._current = held
            else:
                if self._next is not None:  # cannot happen with one fetch at a time
                    self._retire(self._next)
                self._next = held
            if self._slot_cap is not None and self._slots_held > self._slot_cap:
                # Held to its share while another caller has too few (the limiter's
                # slot rule, ratelimit._slots): what neither this lease's requests nor those in
                # flight need goes back now, on the next call, not after the next completion.
                self._release_spare_slots(at_most=self._slots_held - self._slot_cap)
        elif want > 0:
            self.refusals += 1
            self._retry_at = now + lease.retry_in
        return lease

    async def _lease_retrying(self, want: int, tokens: int, report: UsageReport | None) -> Lease:
        """One lease call, asked again while the limiter is unavailable (restarting)."""
        pause = self._limiter_retry_seconds
        give_up_at = self._clock() + self._limiter_unavailable_timeout
        while True:
            self.lease_calls += 1
            try:
                return await self._limiter.lease(
                    self.caller_id, want, tokens, report, *self._tenant_args
                )
            except LimiterUnavailable:
                if self._closed or self._clock() + pause > give_up_at:
                    raise  # closing: the last report is best effort, do not hold close up
                self.limiter_retries += 1
                await self._sleep(pause)
                pause = min(2 * pause, self._limiter_retry_cap)

    def _forget_old_incarnation(self) -> None:
        """The limiter restarted: drop what the old instance granted, giving nothing back.

        The new instance never granted those leases or slots, so returning them would
        credit it with capacity it does not have. Requests in flight keep running; until
        they end, they keep this client from using the new instance's slots.
        """
        self.restarts_seen += 1
        self._current = self._next = None
        self._slots_held = 0
        self._report = UsageReport()
        self._report_retry_until = None
        self._last_full_lease = 0

    # ---------------------------------------------------------------- complete
    def complete(
        self,
        permit: Permit,
        *,
        actual_tokens: int | None = None,
        status: int | None = None,
        retry_after: float | None = None,
        observation: RateLimitObservation | None = None,
    ) -> None:
        """Record how a permitted request ended; nothing is sent to the limiter here.

        ``status=429`` stops this client's sends for ``retry_after`` seconds (else the
        observation's, else ``default_cooldown``) and tells the limiter at once, so every
        caller stops. Completing a permit twice is ignored.
        """
        if permit.done:
            return
        permit.done = True
        report = self._report
        self._in_flight = max(0, self._in_flight - 1)
        if self._closed or self._waiting == 0:
            self._release_spare_slots()  # nothing waits: let other callers have them
        elif self._slot_cap is not None and self._slots_held > self._slot_cap:
            self._release_spare_slots(at_most=self._slots_held - self._slot_cap)
        self._slot_freed.set()
        report.completed += 1
        if observation is not None and not observation.is_empty():
            report.observation = observation
        if status == 429:
            if retry_after is None and observation is not None:
                retry_after = observation.retry_after
            wait = self._default_cooldown if retry_after is None else retry_after
            until = self._clock() + wait
            self._cooldown_until = max(self._cooldown_until, until)
            self._report_retry_until = max(self._report_retry_until or until, until)
            report.rate_limited += 1
            # A refused request used no provider tokens: give its estimate back.
            report.token_correction -= permit.estimated_tokens
            self._urgent = True
            self._drop_leases()
        elif actual_tokens is not None:
            report.token_correction += actual_tokens - permit.estimated_tokens
        if self._waiting == 0 or self._urgent:
            # Nobody will ask for a lease soon: make sure slots and 429s still get through.
            self._schedule_flush(0.0 if self._urgent else self._idle_flush_seconds)

    def _schedule_flush(self, delay: float) -> None:
        if self._closed or (self._flush is not None and not self._flush.done()):
            return
        with contextlib.suppress(RuntimeError):  # no running loop: the next lease carries it
            self._flush = asyncio.get_running_loop().create_task(self._flush_later(delay))

    def _schedule_idle_release(self) -> None:
        if self._closed or (self._idle_release is not None and not self._idle_release.done()):
            return
        with contextlib.suppress(RuntimeError):
            self._idle_release = asyncio.get_running_loop().create_task(self._release_if_idle())

    async def _release_if_idle(self) -> None:
        """Nothing left to send for ``idle_flush_seconds``: give idle slots back now.

        A lease's unsent requests keep their slots (see ``_spare_slots``) until this client
        next sends, or one of its requests ends, which for long requests is many seconds
        away: meanwhile another caller with work waiting could not have them.
        """
        await self._sleep(self._idle_flush_seconds)
        if self._fetch is not None and not self._fetch.done():
            with contextlib.suppress(Exception):
                await self._fetch  # a lease on its way is given back with the rest
        if self._waiting > 0 or self._closed:
            return
        self._drop_leases()
        self._release_spare_slots()
        if self._report.released_slots or self._report.returned_requests:
            self._schedule_flush(0.0)

    async def _flush_later(self, delay: float) -> None:
        if delay > 0:
            await self._sleep(delay)
        if self._fetch is not None and not self._fetch.done():
            return  # that request carries the report
        if self._waiting > 0 and not self._urgent:
            return  # a waiting acquire will ask soon enough
        if not self._report.is_empty() or self._urgent:
            with contextlib.suppress(Exception):  # best effort: the next lease retries it
                self._fetch = asyncio.get_running_loop().create_task(self._call_limiter(0))
                await self._fetch

    # ------------------------------------------------------------------ close
    async def close(self) -> None:
        """Give back unused capacity and deliver the last report (one call at most)."""
        if self._closed:
            return
        self._closed = True
        if self._idle_release is not None and not self._idle_release.done():
            self._idle_release.cancel()  # close gives everything back itself
        if self._flush is not None and not self._flush.done():
            self._flush.cancel()
            with contextlib.suppress(BaseException):
                await self._flush
        if self._fetch is not None and not self._fetch.done():
            with contextlib.suppress(Exception):
                await self._fetch  # a grant arriving now is retired into the report
        self._drop_leases()
        self._release_spare_slots()
        report = self._take_report()
        if report is not None:
            self.lease_calls += 1
            with contextlib.suppress(LimiterUnavailable):  # a restarted limiter knew none of it
                await self._limiter.lease(self.caller_id, 0, 0, report, *self._tenant_args)

    def stats(self) -> dict[str, int]:
        """Counters for the engine's reports: ``lease_calls`` is the actor calls made."""
        return {
            "lease_calls": self.lease_calls,
            "granted_requests": self.granted_requests,
            "refusals": self.refusals,
            "sent": self.sent,
            "limiter_retries": self.limiter_retries,
            "restarts_seen": self.restarts_seen,
            "slides": self.slides,
            "lapsed": self.lapsed,
        }
