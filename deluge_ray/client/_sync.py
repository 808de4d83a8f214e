"""Run a coroutine to completion from synchronous code, even inside a running event loop.

``asyncio.run`` refuses to start when the calling thread already runs a loop, which is
always the case in a Jupyter notebook. :func:`run_sync` then runs the coroutine on a
short-lived helper thread with its own loop and blocks the caller until it finishes;
exceptions propagate unchanged.

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
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["run_sync"]

T = TypeVar("T")


def _loop_running_in_this_thread() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` and return its result, blocking the calling thread."""
    if not _loop_running_in_this_thread():
        return asyncio.run(coro)

    outcome: dict[str, Any] = {}

    def _runner() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as exc:  # re-raised in the caller's thread
            outcome["error"] = exc

    # A separate thread, because the caller's loop is blocked by this very call and could
    # never drive the coroutine itself.
    helper = threading.Thread(target=_runner, name="deluge-ray-run-sync", daemon=True)
    helper.start()
    helper.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]
