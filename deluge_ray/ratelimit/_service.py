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
from ._core import LimiterCore
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
    conservatively); ``options`` go to the core.
    """

    def __init__(
        self,
        rpm: float | None,
        tpm: float | None,
        max_concurrent: int | None,
        *,
        restarted: bool = False,
        **options: Any,
    ) -> None:
        self._core = LimiterCore(rpm, tpm, max_concurrent, restarted=restarted, **options)

    async def lease(
        self,
        caller_id: str,
        want_requests: int,
        tokens_per_request: int = 0,
        report: UsageReport | None = None,
    ) -> Lease:
        """Apply ``report`` and grant a block of capacity (or say when to retry)."""
        return self._core.lease(caller_id, want_requests, tokens_per_request, report)

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
