"""Task bookkeeping for ``start_nowait`` / ``wait_for`` / ``wait_for_all`` / ``as_completed``.

A task is an integer id mapped to a :class:`concurrent.futures.Future` that the engine
thread resolves with the task's :class:`APIResponse`. Thread futures (rather than asyncio
ones) let a task started in one event loop, or in plain sync code, be awaited from any
other loop.

    >>> import asyncio, concurrent.futures
    >>> reg = TaskRegistry()
    >>> fut = concurrent.futures.Future()
    >>> tid = reg.add(fut)
    >>> fut.set_result("done")
    >>> asyncio.run(reg.wait_for(tid))
    'done'
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ..errors import ConfigurationError

__all__ = ["TaskRegistry"]


class TaskRegistry:
    """Task ids and their futures; safe to use from any thread."""

    def __init__(self) -> None:
        self._futures_by_id: dict[int, concurrent.futures.Future] = {}
        self._next_id = 0
        self._lock = threading.Lock()

    def reserve(self, n: int = 1) -> int:
        """Reserve ``n`` consecutive ids; returns the first."""
        with self._lock:
            first = self._next_id
            self._next_id += n
            return first

    def add(self, future: concurrent.futures.Future, task_id: int | None = None) -> int:
        """Register ``future`` under ``task_id`` (or a fresh id); returns the id."""
        with self._lock:
            if task_id is None:
                task_id = self._next_id
                self._next_id += 1
            self._futures_by_id[task_id] = future
            return task_id

    def ids(self) -> list[int]:
        """Every task id, in start order."""
        with self._lock:
            return sorted(self._futures_by_id)

    def _future(self, task_id: int) -> concurrent.futures.Future:
        with self._lock:
            fut = self._futures_by_id.get(task_id)
        if fut is None:
            raise ConfigurationError(
                f"unknown task id {task_id!r}; use an id returned by start_nowait() on this client"
            )
        return fut

    async def wait_for(self, task_id: int) -> Any:
        """The result of one task, once it is done."""
        return await asyncio.wrap_future(self._future(task_id))

    async def wait_for_all(self, task_ids: Sequence[int] | None = None) -> list[Any]:
        """Results of ``task_ids`` (default: every task), in the order given."""
        ids = self.ids() if task_ids is None else list(task_ids)
        futures = [asyncio.wrap_future(self._future(t)) for t in ids]
        return list(await asyncio.gather(*futures))

    async def as_completed(
        self, task_ids: Sequence[int] | None = None
    ) -> AsyncIterator[tuple[int, Any]]:
        """Yield ``(task_id, result)`` pairs in completion order."""
        ids = self.ids() if task_ids is None else list(task_ids)
        id_by_future = {asyncio.wrap_future(self._future(t)): t for t in ids}
        pending = set(id_by_future)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            # Report a round in start order, so equal-time finishes come out predictably.
            for fut in sorted(done, key=id_by_future.__getitem__):
                yield id_by_future[fut], fut.result()
