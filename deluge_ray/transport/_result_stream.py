"""Stream the results of many concurrent coroutines back in batches, not one by one.

A Ray actor method that is an async generator (called with ``num_returns="streaming"``)
pays for every ``yield`` with one Ray object report, whatever the object's size; both
actors that serve many items at once (``ProviderCaller.run_batch``, ``SubAgent.run_loops``)
therefore yield *lists*. :func:`stream_in_batches` is the one loop that builds those lists.

**The flush rule.** When the first item of a batch is ready, wait :data:`FLUSH_S` for more
and yield everything ready by then; but when only one unit of work is still outstanding, no
other item can join it, so that lone item is yielded at once. Measured with 20,000 prompts
on 2 cores: a 5 ms window gave ~2,400 yields, 30 ms ~850 and 10% more requests/s; 30 ms is
invisible next to a provider's latency.

An item may be *final* (its unit of work is done) or not (a progress event, such as an
agent loop's checkpoint); the stream ends once every unit has produced its final item.
The sleep is injectable so the rule is tested on a virtual clock.

    >>> import asyncio
    >>> async def work(emit):
    ...     emit("a")
    >>> async def collect():
    ...     return [b async for b in stream_in_batches(lambda emit: [work(emit)], 1)]
    >>> asyncio.run(collect())
    [['a']]
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable
from typing import Any, TypeVar

__all__ = ["FLUSH_S", "stream_in_batches"]

T = TypeVar("T")

# How long to gather more items after the first ready one (see the module docstring).
FLUSH_S = 0.03


def _always_final(_item: Any) -> bool:
    return True


async def stream_in_batches(
    start: Callable[[Callable[[T], None]], Iterable[Coroutine[Any, Any, None]]],
    units: int,
    *,
    is_final: Callable[[T], bool] = _always_final,
    flush_s: float = FLUSH_S,
    sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
    on_batch: Callable[[list[T]], None] | None = None,
) -> AsyncIterator[list[T]]:
    """Run the coroutines ``start(emit)`` returns; yield lists of what they ``emit``.

    ``units`` is how many final items to expect (one per unit of work); ``is_final`` says
    whether an item ends its unit. Leaving the generator early (the consumer went away)
    cancels every coroutine still running, so no quota is spent for nobody.
    ``on_batch`` sees each list just before it is yielded (metrics: once per list).
    """
    ready_items: asyncio.Queue[T] = asyncio.Queue()
    tasks = [asyncio.ensure_future(coro) for coro in start(ready_items.put_nowait)]
    outstanding = units
    try:
        while outstanding > 0:
            batch = [await ready_items.get()]
            if outstanding > 1:
                await sleep(flush_s)
            while not ready_items.empty():
                batch.append(ready_items.get_nowait())
            outstanding -= sum(1 for item in batch if is_final(item))
            if on_batch is not None:
                on_batch(batch)
            yield batch
    finally:
        for task in tasks:
            task.cancel()
