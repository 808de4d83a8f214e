"""The limiter as a service: what the ``RateLimiter`` actor runs, as a plain class.

:class:`LimiterService` is the object Ray wraps in ``actors/rate_limiter.py``; it holds one
:class:`~deluge_ray.ratelimit._core.LimiterCore` and answers its callers. Every method is
``async`` and never blocks (the core is plain arithmetic), so one actor serves many
callers at once. Being a plain class, it is tested without Ray.

>>> import asyncio
>>> service = LimiterService(rpm=600, tpm=None, max_concurrent=None, clock=lambda: 0.0)
>>> asyncio.run(service.lease("a", 5)).requests
5
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import Any

from ..errors import ConfigurationError
from ._budget import ClientLedgers, SpendLedger
from ._core import LimiterCore
from ._holders import CHECK_SECONDS, HolderBook
from ._priority import Tenant
from ._records import Lease, UsageReport
from ._status import LimiterStatus, StatusBook, build_status

__all__ = ["LimiterService", "check_limits"]


def check_limits(rpm: float | None, tpm: float | None, max_concurrent: int | None) -> None:
    """Raise :class:`ConfigurationError` unless every limit is ``None`` or positive."""
    for name, value in (("rpm", rpm), ("tpm", tpm), ("max_concurrent", max_concurrent)):
        if value is not None and not value > 0:
            raise ConfigurationError(f"{name} must be a positive number or None, got {value!r}")


class LimiterService:
    """Leases request, token and concurrency capacity to callers; see ``LimiterCore``.

    ``restarted`` says this instance replaces a lost one (the core then starts
    conservatively); ``options`` go to the core. ``spend_path`` is the SQLite file where
    the key's budget spend is kept (opened on first use; ``None``: in memory only).
    ``name`` is the actor's name (shown in the status); ``gauges``, when given (see
    :func:`deluge_ray.metrics.limiter_gauges`), get the status every ``tick_s`` seconds.
    ``holder_probe``, when given, says which holder processes are dead (it may block: it
    runs on a thread); every ``holder_check_s`` the service releases the quiet callers of
    dead holders (the rule is in :mod:`deluge_ray.ratelimit._holders`).
    """

    def __init__(
        self,
        rpm: float | None,
        tpm: float | None,
        max_concurrent: int | None,
        *,
        restarted: bool = False,
        spend_path: str | None = None,
        name: str = "",
        gauges: Any = None,
        tick_s: float = 5.0,
        holder_probe: Callable[[list[str]], set[str]] | None = None,
        holder_check_s: float = CHECK_SECONDS,
        **options: Any,
    ) -> None:
        self._core = LimiterCore(rpm, tpm, max_concurrent, restarted=restarted, **options)
        self._holders = HolderBook(clock=options.get("clock", time.monotonic))
        self._holder_probe, self._holder_check_s = holder_probe, holder_check_s
        self._holder_watch: asyncio.Task | None = None
        self._spend_path = spend_path
        self._ledger: SpendLedger | None = None
        self._name = name
        # What ``status`` reports; noted as leases pass, never consulted by a grant.
        self._book = StatusBook(clock=options.get("clock", time.monotonic))
        self._key_budget: tuple[float, float] | None = None  # (cap, window) last asked for
        self._clients = ClientLedgers()  # clients' own budgets, shared by their processes
        self._gauges, self._tick_s = gauges, tick_s
        self._ticker: asyncio.Task | None = None

    def _spend(self) -> SpendLedger:
        if self._ledger is None:
            self._ledger = SpendLedger(self._spend_path)
        return self._ledger

    async def lease(
        self,
        caller_id: str,
        want_requests: int,
        tokens_per_request: int = 0,
        report: UsageReport | None = None,
        tenant: Tenant | None = None,
    ) -> Lease:
        """Apply ``report`` and grant a block of capacity (or say when to retry).

        ``tenant`` is the client behind the caller, with its priority (see ``_priority``).
        """
        lease = self._core.lease(caller_id, want_requests, tokens_per_request, report, tenant)
        self._holders.seen(caller_id)
        self._book.note_lease(caller_id, tenant, lease, report, self._core.incarnation)
        if self._gauges is not None and self._ticker is None:
            self._ticker = asyncio.get_running_loop().create_task(self._tick())
        return lease

    async def reserve_spend(
        self,
        costs: list[float],
        cap_usd: float,
        window_seconds: float,
        client_id: str = "",
        scope: str = "key",
        spent_here: float = 0.0,
    ) -> tuple[list[bool], float]:
        """Reserve worst-case ``costs`` against the key's budget of ``cap_usd`` per window.

        Returns which were admitted and the dollars spent or reserved in the window
        (see :mod:`deluge_ray.ratelimit._budget`; the cap is the caller's, last one wins).
        ``client_id`` names the client reserving, for the status. ``scope="client"``
        reserves against that client's own budget instead (see ``ClientLedgers``; with
        ``spent_here``, what the asking process has spent of it).
        """
        if scope == "client":
            return self._clients.reserve(client_id, costs, cap_usd, self._book, spent_here)
        ledger = self._spend()
        admitted = ledger.reserve(costs, cap=cap_usd, window=window_seconds)
        self._key_budget = (cap_usd, window_seconds)
        self._book.note_spend(
            client_id, sum(c for c, ok in zip(costs, admitted, strict=True) if ok)
        )
        return admitted, ledger.spent(window_seconds)

    async def settle_spend(
        self, reserved_usd: float, actual_usd: float, client_id: str = "", scope: str = "key"
    ) -> None:
        """Replace reserved dollars by what the requests actually cost."""
        if scope == "client":
            return self._clients.settle(client_id, reserved_usd, actual_usd, self._book)
        self._spend().settle(reserved=reserved_usd, actual=actual_usd)
        self._book.note_spend(client_id, actual_usd - reserved_usd)

    async def note_client_spend(
        self, client_id: str, spent_usd: float, budget_usd: float | None
    ) -> None:
        """A client's own budget and its spend so far (shown in the status only)."""
        self._book.note_own_spend(client_id, spent_usd, budget_usd)

    async def key_spend(self, window_seconds: float) -> float:
        """Dollars spent or reserved on this key in the last ``window_seconds``."""
        return self._spend().spent(window_seconds)

    async def release_caller(self, caller_id: str) -> int:
        """Forget a caller known to be dead; returns the concurrency slots it gave back."""
        self._book.forget_caller(caller_id)
        self._holders.forget(caller_id)
        return self._core.release_caller(caller_id)

    async def note_holder(self, caller_id: str, holder: str) -> None:
        """``caller_id`` runs in ``holder`` (an actor or job id): see ``ratelimit._holders``."""
        self._holders.note_holder(caller_id, holder)
        if self._holder_probe is not None and self._holder_watch is None:
            self._holder_watch = asyncio.get_running_loop().create_task(self._watch_holders())

    async def reclaim_dead_holders(self) -> int:
        """Release every quiet, slot-holding caller whose holder is dead; returns slots freed.

        The probe may block (a GCS look-up), so it runs on a thread: the limiter keeps
        answering leases meanwhile.
        """
        if self._holder_probe is None or not len(self._holders):
            return 0
        suspects = self._holders.suspects(self._core.status_state()["slots_held"])
        if not suspects:
            return 0
        dead = await asyncio.to_thread(self._holder_probe, list(suspects))
        freed = 0
        for holder in dead:
            for caller_id in suspects.get(holder, ()):
                freed += await self.release_caller(caller_id)
        return freed

    async def _watch_holders(self) -> None:
        # A failing probe must never stop the limiter; the 120 s rule still applies then.
        while True:
            await asyncio.sleep(self._holder_check_s)
            with contextlib.suppress(Exception):
                await self.reclaim_dead_holders()

    async def set_limits(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        max_concurrent: int | None = None,
    ) -> dict[str, Any]:
        """Change the configured limits (``None`` keeps one); returns the effective limits."""
        self._core.set_limits(rpm=rpm, tpm=tpm, max_concurrent=max_concurrent)
        return self._core.effective_limits()

    async def max_request_tokens(self) -> int | None:
        """The largest single request, in tokens, that the budget allows."""
        return self._core.max_request_tokens()

    async def stats(self) -> dict[str, Any]:
        """Grants, lease calls, 429 cooldowns, the incarnation and the effective limits."""
        return self._core.stats()

    async def status(self) -> LimiterStatus:
        """A snapshot of this limiter for ``deluge-ray status`` (see ``ratelimit._status``)."""
        return self._status()

    def _status(self) -> LimiterStatus:
        key_spend = key_cap = None
        if self._key_budget is not None:
            key_cap, window = self._key_budget
            key_spend = self._spend().spent(window)
        return build_status(
            self._name,
            self._core.status_state(),
            self._book,
            key_spend_usd=key_spend,
            key_budget_usd=key_cap,
        )

    async def _tick(self) -> None:
        # The gauges are set from the status on a timer, not per lease: a lease call must
        # stay arithmetic only. A failing exporter must never stop the limiter.
        while True:
            with contextlib.suppress(Exception):
                self._gauges.record(self._status())
            await asyncio.sleep(self._tick_s)
