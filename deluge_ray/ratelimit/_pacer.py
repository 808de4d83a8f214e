"""A driver-side pacer for the few direct calls that bypass the shared limiter.

Embeddings and rerank send from the driver; a :class:`Pacer` spreads their request starts
at a per-minute rate and caps how many run at once:

    >>> pacer = Pacer(max_requests_per_minute=600, max_concurrent=4)
    >>> pacer.interval
    0.1
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from ..errors import ConfigurationError

__all__ = ["Pacer"]


class Pacer:
    """Spreads request starts at ``max_requests_per_minute`` and caps concurrency.

    Driver-side helpers (embeddings, rerank) use one per call; it mirrors the client's
    pacing-not-bursting rule: starts are at least ``interval = 60 / rpm`` seconds apart.
    It learns from 429s like the shared limiter does: a 429 holds every start until its
    ``retry-after`` has passed and doubles the interval (the provider's real limit is
    lower than ours); each success shrinks it back by 10 % towards the configured rate.
    """

    def __init__(
        self,
        max_requests_per_minute: float,
        max_concurrent: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    ) -> None:
        if max_requests_per_minute <= 0 or max_concurrent < 1:
            raise ConfigurationError(
                "max_requests_per_minute must be > 0 and max_concurrent_requests >= 1 "
                f"(got {max_requests_per_minute} and {max_concurrent})."
            )
        self._clock = clock  # injectable, so that tests run in virtual time
        self._sleep = sleep
        self.base_interval = 60.0 / max_requests_per_minute
        self.interval = self.base_interval
        self._slots = asyncio.Semaphore(max_concurrent)
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def __aenter__(self) -> Pacer:
        await self._slots.acquire()
        async with self._lock:
            now = self._clock()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await self._sleep(start - now)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._slots.release()

    def throttled(self, retry_after: float | None) -> None:
        """A request was refused with 429: pause all starts and slow down."""
        wait = retry_after if retry_after is not None else 1.0
        self._next = max(self._next, self._clock() + wait)
        self.interval = max(self.interval * 2, wait / 2)

    def succeeded(self) -> None:
        """A request went through: creep back towards the configured rate."""
        self.interval = max(self.base_interval, self.interval * 0.9)
