"""An asyncio event loop running on its own daemon thread: the one helper for that job.

The engine, the SubAgent pool, agent loops started from plain sync code and
:func:`~deluge_ray.client._sync.run_sync` each need a loop that the caller's thread does
not drive (it may run no loop, or be blocked in the very call waiting for the result).

    >>> async def double(x):
    ...     return 2 * x
    >>> thread = LoopThread("doc-example")
    >>> thread.submit(double(21)).result()
    42
    >>> thread.close()
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["LoopThread"]

T = TypeVar("T")


class LoopThread:
    """A new event loop, run forever on a daemon thread named ``name`` until :meth:`close`."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    @property
    def closed(self) -> bool:
        """Whether :meth:`close` has stopped the loop."""
        return self.loop.is_closed()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        """Schedule ``coro`` on the loop; a thread-safe future of its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call_soon(self, callback: Any, *args: Any) -> None:
        """Run ``callback(*args)`` on the loop's thread, soon."""
        self.loop.call_soon_threadsafe(callback, *args)

    def close(self, timeout: float = 10.0) -> None:
        """Cancel the loop's remaining tasks, stop it and wait for its thread (idempotent).

        Called from the loop's own thread it only asks the loop to stop.
        """
        if self.loop.is_closed():
            return
        if threading.current_thread() is self._thread:
            self.loop.stop()
            return
        if self.loop.is_running():
            try:
                self.submit(self._cancel_remaining()).result(timeout=timeout)
            except Exception:  # a task that refuses to stop must not block shutdown
                pass
            self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=timeout)
        if not self._thread.is_alive():
            self.loop.close()

    async def _cancel_remaining(self) -> None:
        me = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not me]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.loop.shutdown_asyncgens()
