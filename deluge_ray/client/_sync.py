"""Run a coroutine to completion from synchronous code, even inside a running event loop.

``asyncio.run`` refuses to start when the calling thread already runs a loop, which is
always the case in a Jupyter notebook. :func:`run_sync` then runs the coroutine on a
short-lived :class:`~deluge_ray.client._loop_thread.LoopThread` and blocks the caller
until it finishes; exceptions propagate unchanged.

    >>> import asyncio
    >>> async def double(x):
    ...     return 2 * x
    >>> run_sync(double(21))
    42
    >>> async def notebook_cell():      # a loop is already running here
    ...     return run_sync(double(1))
    >>> asyncio.run(notebook_cell())
    2
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

from .._loop_thread import LoopThread

__all__ = ["loop_running_in_this_thread", "run_sync"]

T = TypeVar("T")


def loop_running_in_this_thread() -> bool:
    """Whether the calling thread is running an event loop right now."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` and return its result, blocking the calling thread."""
    if not loop_running_in_this_thread():
        return asyncio.run(coro)

    # A separate thread, because the caller's loop is blocked by this very call and could
    # never drive the coroutine itself.
    helper = LoopThread("deluge-ray-run-sync")
    try:
        return helper.submit(coro).result()
    finally:
        helper.close()
