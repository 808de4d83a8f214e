"""Virtual time for asyncio tests: sleeps complete instantly, in order of their deadlines."""

from __future__ import annotations

import asyncio
import heapq
from collections.abc import Coroutine
from typing import Any

from deluge_ray.ratelimit._core import Lease, LimiterCore, UsageReport


class VirtualTime:
    """A clock and a ``sleep`` that only advance when every task is waiting on a sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self._timers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = 0

    def clock(self) -> float:
        return self.now

    async def sleep(self, delay: float) -> None:
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._timers, (self.now + max(0.0, delay), self._seq, future))
        self._seq += 1
        await future

    async def _settle(self) -> None:
        # Let every runnable callback run before time moves on.
        loop = asyncio.get_running_loop()
        for _ in range(10_000):
            await asyncio.sleep(0)
            if not getattr(loop, "_ready", None):
                return

    async def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        task = asyncio.ensure_future(coro)
        while True:
            await self._settle()
            if task.done():
                return task.result()
            while self._timers and self._timers[0][2].done():
                heapq.heappop(self._timers)  # a cancelled sleeper
            assert self._timers, "deadlock: every task waits and no sleep is pending"
            self.now = max(self.now, self._timers[0][0])
            while self._timers and self._timers[0][0] <= self.now:
                future = heapq.heappop(self._timers)[2]
                if not future.done():
                    future.set_result(None)


class InProcessLimiter:
    """A LimiterCore behind an async ``lease`` with an actor-like round trip of 1.5 ms."""

    def __init__(self, vt: VirtualTime, rpm=None, tpm=None, max_concurrent=None, **kw) -> None:
        self.vt = vt
        self.core = LimiterCore(rpm, tpm, max_concurrent, clock=vt.clock, **kw)
        self.calls = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.reports: list[UsageReport | None] = []

    async def lease(
        self, caller_id: str, want: int, tokens_per_request: int, report: UsageReport | None
    ) -> Lease:
        self.calls += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        self.reports.append(report)
        try:
            await self.vt.sleep(0.00075)
            lease = self.core.lease(caller_id, want, tokens_per_request, report)
            await self.vt.sleep(0.00075)
            return lease
        finally:
            self.in_flight -= 1
