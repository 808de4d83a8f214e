"""The driver sends its first few prompts itself while its first caller process starts.

With the machine-wide Ray head already up, a fresh process joins Ray in a fraction of a
second, but its first ProviderCaller is a new worker process that must start Python and
import deluge_ray (1.5-3 s on a loaded 2-core machine): a notebook user's first
``process_prompts_sync(["hi"])`` used to wait for it (issue 15, item 2). Ray cannot lend
another driver's warm worker (workers are bound to one job), so instead the driver serves
the first prompts in-process, on the engine's loop, with the very code a caller runs
(:class:`~deluge_ray.transport._caller.BatchCaller`: the same runner, retries and a
``LeaseClient`` on the same shared RateLimiter), until a caller proves it is up.

The rule, applied by :class:`StarterPool` (a :class:`~deluge_ray.client._dispatcher.
CallerPool` in front of the client's :class:`~deluge_ray.client._caller_pool.RayCallerPool`):

* Until any Ray caller has answered (a ``ping`` sent to each caller the pool has when the
  dispatcher starts, or a first result), the dispatcher also sees :data:`DRIVER`, listed
  first, so a lone prompt goes to it.
* The driver keeps at most :data:`DRIVER_ITEMS` (8) items in flight; what a batch sent to
  it holds beyond that is forwarded to the least busy Ray caller, in the same stream. A
  forwarded part whose caller is lost is left unanswered (the dispatcher resends it) and
  the caller replaced; any other error of it ends the stream once the driver's own part
  is answered (the dispatcher then fails only what is still unanswered).
* Once a caller has answered, :data:`DRIVER` is no longer offered. The in-process caller
  is closed (HTTP session shut, unused lease capacity back to the limiter) whenever its
  items are all answered, just before the last answer is handed out, so a script that
  exits on its first result leaves nothing open.

So a big batch pays nothing for this (at most eight prompts run on the driver), and a
small one does not wait for a process to start.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Hashable
from typing import Any

from ..transport._caller import BatchCaller
from ..transport._work import CallSpec, WorkBatch, WorkItem, WorkResult

__all__ = ["DRIVER", "DRIVER_ITEMS", "StarterPool"]

#: The caller the dispatcher sees for "this driver, in-process".
DRIVER = "driver-in-process"
#: Items the driver serves itself at once; the rest of a batch goes to a Ray caller.
DRIVER_ITEMS = 8


class StarterPool:
    """``pool`` (the Ray callers) plus the driver itself until a caller is up; see the module.

    ``specs`` is the client's live spec table (the one the pool reads). Every method runs
    on the engine's loop.
    """

    def __init__(self, pool: Any, specs: dict[int, CallSpec]) -> None:
        self._pool = pool
        self._specs = specs
        self._ready = False
        self._local: BatchCaller | None = None
        self._local_items = 0
        self._tasks: set[asyncio.Task] = set()
        for caller in pool.live_callers():
            self._spawn(self._await_ping(caller))

    @property
    def ready(self) -> bool:
        """Whether a Ray caller has answered (the driver then serves nothing new)."""
        return self._ready

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _await_ping(self, caller: Any) -> None:
        with contextlib.suppress(Exception):  # a lost caller is the dispatcher's business
            await caller.ping.remote()
            self._mark_ready()

    def _mark_ready(self) -> None:
        self._ready = True

    def live_callers(self) -> list[Hashable]:
        """The Ray callers, after :data:`DRIVER` while no caller has answered yet."""
        callers = self._pool.live_callers()
        return callers if self._ready else [DRIVER, *callers]

    def stream_batch(
        self, caller: Any, items: list[WorkItem], blocklisted: frozenset[str]
    ) -> AsyncIterator[list[WorkResult]]:
        """Serve ``items`` on ``caller``: a Ray caller, or :data:`DRIVER` (see the module)."""
        if caller == DRIVER:
            return self._stream_driver(items, blocklisted)
        return self._stream_ray(caller, items, blocklisted)

    async def _stream_ray(
        self, caller: Any, items: list[WorkItem], blocklisted: frozenset[str]
    ) -> AsyncIterator[list[WorkResult]]:
        async for results in self._pool.stream_batch(caller, items, blocklisted):
            if not self._ready:
                self._mark_ready()
            yield results

    async def _stream_driver(
        self, items: list[WorkItem], blocklisted: frozenset[str]
    ) -> AsyncIterator[list[WorkResult]]:
        room = max(0, DRIVER_ITEMS - self._local_items)
        here, rest = items[:room], items[room:]
        out: asyncio.Queue[list[WorkResult] | None] = asyncio.Queue()
        failure: list[BaseException] = []
        parts = []
        if here:
            parts.append(self._run_here(here, blocklisted, out))
        if rest:
            parts.append(self._forward(rest, blocklisted, out, failure))
        running = [asyncio.get_running_loop().create_task(part) for part in parts]
        try:
            for _ in running:
                while (results := await out.get()) is not None:
                    yield results
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if failure:
            raise failure[0]

    async def _run_here(
        self, items: list[WorkItem], blocklisted: frozenset[str], out: asyncio.Queue
    ) -> None:
        if self._local is None:
            self._local = BatchCaller(f"driver-{uuid.uuid4().hex[:8]}")
        local = self._local
        self._local_items += len(items)
        specs = {spec_id: self._specs[spec_id] for spec_id in {i.spec_id for i in items}}
        batch = WorkBatch(items=items, specs=specs, blocklisted_models=blocklisted)
        last: list[WorkResult] | None = None
        try:
            async for results in local.run_batch(batch):
                # A first answer, as from a Ray caller: the deferred callers start now.
                self._pool.grow()
                if last is not None:
                    await out.put(last)
                last = results
        finally:
            self._local_items -= len(items)
            if self._local_items == 0:
                # Closed before the last answer is handed out: a script may exit on it,
                # and an unclosed HTTP session would print a warning at exit.
                await self._close_local()
            if last is not None:
                await out.put(last)
            await out.put(None)

    async def _forward(
        self,
        items: list[WorkItem],
        blocklisted: frozenset[str],
        out: asyncio.Queue,
        failure: list[BaseException],
    ) -> None:
        callers = self._pool.live_callers()
        try:
            if not callers:
                return  # nothing to forward to: left unanswered, the dispatcher resends
            async for results in self._stream_ray(callers[0], items, blocklisted):
                await out.put(results)
        except Exception as exc:
            if self._pool.is_caller_lost(exc):
                await self._pool.replace(callers[0])
            else:
                failure.append(exc)
        finally:
            await out.put(None)

    async def _close_local(self) -> None:
        local, self._local = self._local, None
        if local is not None:
            with contextlib.suppress(Exception):
                await local.close()

    def is_caller_lost(self, exc: BaseException) -> bool:
        """As the Ray pool says (the driver's own part never raises)."""
        return self._pool.is_caller_lost(exc)

    async def replace(self, caller: Any) -> None:
        """Replace a lost Ray caller (never :data:`DRIVER`)."""
        if caller != DRIVER:
            await self._pool.replace(caller)

    async def aclose(self) -> None:
        """Stop the pings and close the driver's in-process caller (leases go back)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._close_local()
