"""Driver-side dispatch: batch work to callers, merge duplicates, survive lost callers.

The :class:`Dispatcher` runs on the engine's event loop. It never talks to Ray itself; it
drives a :class:`CallerPool` (the Ray one in ``_caller_pool.py``, an in-process fake in the
tests), which turns a list of :class:`WorkItem` into a stream of result lists.

What it guarantees:

* **Batching** – everything submitted in one loop tick is cut into at most one batch per
  caller (up to ``max_batch`` items), so a million ``start_nowait`` calls cost thousands
  of actor calls, not a million.
* **Bounded memory in the actors** – at most ``max_outstanding`` items are with the
  callers at any time; the rest wait in the driver's queue.
* **Duplicates sent once** – items submitted with the same ``dedup_key`` while the first
  is still in flight get that one result.
* **Nothing lost** – if a caller dies, every item it had not answered goes back to the
  front of the queue and the pool starts a replacement. An item whose callers die
  ``max_losses`` times is answered with an error result instead of looping forever. A
  caller lost with its node (the pool's ``is_node_lost``: a spot instance reclaimed, a
  node scaled down) does not count against its items: the item did nothing wrong, and a
  cluster shrinking twice during one long request must not fail it. Only a caller that
  died on its own (a crash, running out of memory: possibly because of the item) counts.

    >>> import asyncio
    >>> from deluge_ray.transport._work import WorkItem, WorkResult
    >>> class EchoPool:                      # an in-process caller that answers at once
    ...     def live_callers(self): return ["c0"]
    ...     async def stream_batch(self, caller, items, blocklisted):
    ...         yield [WorkResult(key=i.key, response=i.conversation) for i in items]
    ...     def is_caller_lost(self, exc): return False
    ...     def is_node_lost(self, exc): return False
    ...     async def replace(self, caller): pass
    >>> got = []
    >>> async def main():
    ...     d = Dispatcher(EchoPool(), on_results=lambda pairs: got.extend(pairs),
    ...                    make_error=None)
    ...     d.submit([(WorkItem(0, "a", 1, 0), "same", "w1"), (WorkItem(0, "a", 1, 0), "same", "w2")])
    ...     await d.wait_idle()
    >>> asyncio.run(main())
    >>> [(waiters, r.response) for waiters, r in got]
    [(['w1', 'w2'], 'a')]
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable, Iterable
from typing import Any, Protocol

from ..transport._work import WorkItem, WorkResult

__all__ = ["CallerPool", "Dispatcher"]

DEFAULT_MAX_OUTSTANDING = 2048
DEFAULT_MAX_BATCH = 256
DEFAULT_MAX_LOSSES = 3


class CallerPool(Protocol):
    """What the dispatcher needs from a set of callers."""

    def live_callers(self) -> list[Hashable]:
        """The callers that can take work now (never empty while the pool is open)."""

    def stream_batch(
        self, caller: Hashable, items: list[WorkItem], blocklisted: frozenset[str]
    ) -> AsyncIterator[list[WorkResult]]:
        """Send ``items`` to ``caller``; yield lists of results as they finish."""

    def is_caller_lost(self, exc: BaseException) -> bool:
        """True when ``exc`` means the caller died (its unanswered work must be resent)."""

    def is_node_lost(self, exc: BaseException) -> bool:
        """True when the caller died because its node went away (not counted as a loss)."""

    async def replace(self, caller: Hashable) -> None:
        """Drop a dead caller and start another in its place (idempotent per caller)."""


class Dispatcher:
    """See the module docstring. All methods must be called on the engine's loop."""

    def __init__(
        self,
        pool: CallerPool,
        *,
        on_results: Callable[[list[tuple[list[Any], WorkResult]]], None],
        make_error: Callable[[WorkItem, str], WorkResult] | None,
        max_outstanding: int = DEFAULT_MAX_OUTSTANDING,
        max_batch: int = DEFAULT_MAX_BATCH,
        max_losses: int = DEFAULT_MAX_LOSSES,
    ) -> None:
        self._pool = pool
        self._on_results = on_results
        self._make_error = make_error
        self._max_outstanding = max_outstanding
        self._max_batch = max_batch
        self._max_losses = max_losses

        self._queued: deque[WorkItem] = deque()
        self._waiters_by_key: dict[int, list[Any]] = {}
        self._key_by_dedup: dict[Hashable, int] = {}
        self._dedup_by_key: dict[int, Hashable] = {}
        self._inflight_by_caller: dict[Hashable, int] = {}
        self._losses_by_key: dict[int, int] = {}
        self._blocklisted: set[str] = set()
        self._batch_tasks: set[asyncio.Task] = set()
        self._next_key = 0
        self._pump_scheduled = False
        self._idle = asyncio.Event()
        self._idle.set()

    # ---- state the client reads -------------------------------------------------------
    @property
    def in_flight(self) -> int:
        """Items currently with callers."""
        return sum(self._inflight_by_caller.values())

    @property
    def unfinished(self) -> int:
        """Distinct items queued or in flight (duplicates counted once)."""
        return len(self._waiters_by_key)

    @property
    def blocklisted_models(self) -> frozenset[str]:
        """Models a caller found unusable (401/403/404); later batches avoid them."""
        return frozenset(self._blocklisted)

    def note_blocklisted(self, models: Iterable[str]) -> None:
        """Models found unusable by a call sent outside the callers (a streamed one)."""
        self._blocklisted.update(models)

    # ---- input ------------------------------------------------------------------------
    def submit(self, entries: Iterable[tuple[WorkItem, Hashable | None, Any]]) -> None:
        """Queue ``(item, dedup_key, waiter)`` entries; a waiter is whatever the result
        sink needs to route the result (the dispatcher only hands it back)."""
        for item, dedup_key, waiter in entries:
            if dedup_key is not None and dedup_key in self._key_by_dedup:
                self._waiters_by_key[self._key_by_dedup[dedup_key]].append(waiter)
                continue
            item.key = self._next_key
            self._next_key += 1
            self._waiters_by_key[item.key] = [waiter]
            if dedup_key is not None:
                self._key_by_dedup[dedup_key] = item.key
                self._dedup_by_key[item.key] = dedup_key
            self._queued.append(item)
        if self._waiters_by_key:
            self._idle.clear()
        self._schedule_pump()

    async def wait_idle(self) -> None:
        """Return once every submitted item has been answered."""
        await self._idle.wait()

    async def aclose(self) -> None:
        """Cancel in-flight batch calls (used when the client shuts down)."""
        for task in list(self._batch_tasks):
            task.cancel()
        if self._batch_tasks:
            await asyncio.gather(*self._batch_tasks, return_exceptions=True)

    # ---- dispatch ---------------------------------------------------------------------
    def _schedule_pump(self) -> None:
        # Deferred to the next loop iteration so that everything submitted in this tick
        # (e.g. a loop of start_nowait calls) is cut into a few large batches.
        if not self._pump_scheduled:
            self._pump_scheduled = True
            asyncio.get_running_loop().call_soon(self._pump)

    def _pump(self) -> None:
        self._pump_scheduled = False
        callers = self._pool.live_callers()
        if not callers:
            return
        room = self._max_outstanding - self.in_flight
        # Even shares, so a burst spreads over every caller instead of filling one.
        share = math.ceil(len(self._queued) / len(callers))
        while self._queued and room > 0:
            size = max(1, min(self._max_batch, room, share))
            caller = min(callers, key=lambda c: self._inflight_by_caller.get(c, 0))
            batch = [self._queued.popleft() for _ in range(min(size, len(self._queued)))]
            room -= len(batch)
            self._inflight_by_caller[caller] = self._inflight_by_caller.get(caller, 0) + len(batch)
            task = asyncio.get_running_loop().create_task(self._drive_batch(caller, batch))
            self._batch_tasks.add(task)
            task.add_done_callback(self._batch_tasks.discard)

    async def _drive_batch(self, caller: Hashable, batch: list[WorkItem]) -> None:
        unanswered = {item.key: item for item in batch}
        try:
            stream = self._pool.stream_batch(caller, batch, frozenset(self._blocklisted))
            async for results in stream:
                answered = [r for r in results if unanswered.pop(r.key, None) is not None]
                self._inflight_by_caller[caller] -= len(answered)
                self._deliver(answered)
        except asyncio.CancelledError:
            raise
        except BaseException as exc:
            self._inflight_by_caller[caller] = max(
                0, self._inflight_by_caller.get(caller, 0) - len(unanswered)
            )
            if self._pool.is_caller_lost(exc):
                self._inflight_by_caller.pop(caller, None)
                await self._pool.replace(caller)
                counts = not self._pool.is_node_lost(exc)
                self._requeue_lost(list(unanswered.values()), reason=str(exc), counts=counts)
            else:
                self._fail(list(unanswered.values()), f"{type(exc).__name__}: {exc}")
            unanswered.clear()
        finally:
            if unanswered:
                # The stream ended without answering some items: treat them as lost.
                self._inflight_by_caller[caller] = max(
                    0, self._inflight_by_caller.get(caller, 0) - len(unanswered)
                )
                self._requeue_lost(list(unanswered.values()), reason="caller returned no result")
            self._schedule_pump()

    def _requeue_lost(self, items: list[WorkItem], *, reason: str, counts: bool = True) -> None:
        """Queue lost items again; ``counts=False`` (their node went away) spares them a loss."""
        give_up: list[WorkItem] = []
        for item in reversed(items):
            losses = self._losses_by_key.get(item.key, 0) + int(counts)
            self._losses_by_key[item.key] = losses
            if losses >= self._max_losses:
                give_up.append(item)
            else:
                self._queued.appendleft(item)  # front: these have waited longest
        if give_up:
            self._fail(
                give_up,
                f"the ProviderCaller handling this prompt was lost {self._max_losses} times "
                f"(last: {reason}); check the Ray cluster's health",
            )

    def _fail(self, items: list[WorkItem], message: str) -> None:
        if self._make_error is None:
            raise RuntimeError(message)
        self._deliver([self._make_error(item, message) for item in items])

    def _deliver(self, results: list[WorkResult]) -> None:
        pairs: list[tuple[list[Any], WorkResult]] = []
        for result in results:
            waiters = self._waiters_by_key.pop(result.key, None)
            if waiters is None:
                continue  # already answered (e.g. a late duplicate after a resubmission)
            dedup = self._dedup_by_key.pop(result.key, None)
            if dedup is not None:
                self._key_by_dedup.pop(dedup, None)
            self._losses_by_key.pop(result.key, None)
            self._blocklisted.update(result.blocklisted_models)
            pairs.append((waiters, result))
        if pairs:
            self._on_results(pairs)
        if not self._waiters_by_key:
            self._idle.set()
