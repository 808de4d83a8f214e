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

from typing import Any

from ..errors import ConfigurationError
from ._budget import SpendLedger
from ._core import LimiterCore
from ._priority import Tenant
from ._records import Lease, UsageReport

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
    """

    def __init__(
        self,
        rpm: float | None,
        tpm: float | None,
        max_concurrent: int | None,
        *,
        restarted: bool = False,
        spend_path: str | None = None,
        **options: Any,
    ) -> None:
        self._core = LimiterCore(rpm, tpm, max_concurrent, restarted=restarted, **options)
        self._spend_path = spend_path
        self._ledger: SpendLedger | None = None

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
        return self._core.lease(caller_id, want_requests, tokens_per_request, report, tenant)

    async def reserve_spend(
        self, costs: list[float], cap_usd: float, window_seconds: float
    ) -> tuple[list[bool], float]:
        """Reserve worst-case ``costs`` against the key's budget of ``cap_usd`` per window.

        Returns which were admitted and the dollars spent or reserved in the window
        (see :mod:`deluge_ray.ratelimit._budget`; the cap is the caller's, last one wins).
        """
        ledger = self._spend()
        admitted = ledger.reserve(costs, cap=cap_usd, window=window_seconds)
        return admitted, ledger.spent(window_seconds)

    async def settle_spend(self, reserved_usd: float, actual_usd: float) -> None:
        """Replace reserved dollars by what the requests actually cost."""
        self._spend().settle(reserved=reserved_usd, actual=actual_usd)

    async def key_spend(self, window_seconds: float) -> float:
        """Dollars spent or reserved on this key in the last ``window_seconds``."""
        return self._spend().spent(window_seconds)

    async def release_caller(self, caller_id: str) -> int:
        """Forget a caller known to be dead; returns the concurrency slots it gave back."""
        return self._core.release_caller(caller_id)

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
