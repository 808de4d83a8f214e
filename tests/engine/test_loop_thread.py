"""The one event-loop-on-a-thread helper: runs work off the caller's thread, stops cleanly."""

from __future__ import annotations

import asyncio
import threading

import pytest

from deluge_ray._loop_thread import LoopThread
from deluge_ray.client._sync import run_sync


def test_coroutines_run_on_the_helper_thread_and_return_their_result():
    helper = LoopThread("test-loop-thread")
    try:

        async def where() -> str:
            return threading.current_thread().name

        assert helper.submit(where()).result(timeout=5) == "test-loop-thread"
    finally:
        helper.close()
    assert helper.closed


def test_close_cancels_what_still_runs_and_is_idempotent():
    helper = LoopThread("test-loop-thread")
    started = threading.Event()

    async def forever() -> None:
        started.set()
        await asyncio.Event().wait()

    future = helper.submit(forever())
    assert started.wait(timeout=5)
    helper.close()
    assert future.cancelled()
    helper.close()  # a second close does nothing


def test_exceptions_reach_the_waiting_thread():
    helper = LoopThread("test-loop-thread")
    try:

        async def boom() -> None:
            raise ValueError("bad value")

        with pytest.raises(ValueError, match="bad value"):
            helper.submit(boom()).result(timeout=5)
    finally:
        helper.close()


def test_run_sync_works_inside_a_running_loop():
    async def inner() -> int:
        return 7

    async def notebook_cell() -> tuple[int, str]:
        # The cell's own loop is blocked by run_sync: the coroutine must run elsewhere.
        value = run_sync(inner())
        return value, threading.current_thread().name

    value, thread_name = asyncio.run(notebook_cell())
    assert value == 7 and thread_name == threading.main_thread().name
    with pytest.raises(KeyError):
        asyncio.run(_raise_through_run_sync())


async def _raise_through_run_sync() -> None:
    async def fails() -> None:
        raise KeyError("missing")

    run_sync(fails())
