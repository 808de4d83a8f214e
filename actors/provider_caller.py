"""ProviderCaller: the Ray actor around :class:`~deluge_ray.transport._caller.BatchCaller`.

A client starts a small pool of them (``num_cpus=0``: they wait on the network, not the
CPU; :func:`~deluge_ray.actors._placement.next_spread_node` puts them on the nodes in
turn). What a caller does (serve a batch concurrently, stream results back in lists) is
documented on the plain class; this shell only puts it in a process.

Example (needs a running Ray and the driver-side records; the client does all this)::

    caller = ProviderCaller.options(**spread_placement(next_spread_node())).remote("c0")
    async for ref in caller.run_batch.options(num_returns="streaming").remote(batch):
        for result in await ref:
            print(result.key, result.response.completion)
"""

from __future__ import annotations

import ray

from deluge_ray._process_gc import tune_server_gc
from deluge_ray.transport._caller import BatchCaller
from deluge_ray.transport._work import WorkBatch

__all__ = ["ProviderCaller"]


@ray.remote(num_cpus=0)
class ProviderCaller:
    """See the module docstring. ``caller_id`` names this caller to the rate limiters."""

    def __init__(self, caller_id: str) -> None:
        tune_server_gc()  # this process is the actor's alone: see deluge_ray._process_gc
        self._caller = BatchCaller(caller_id)

    async def run_batch(self, batch: WorkBatch):
        """Serve every item of ``batch``; yield lists of ``WorkResult`` as they finish."""
        async for results in self._caller.run_batch(batch):
            yield results

    async def ping(self) -> str:
        """Liveness check; returns the caller id."""
        return self._caller.caller_id

    async def close(self) -> None:
        """Close the HTTP session and give unused lease capacity back."""
        await self._caller.close()
