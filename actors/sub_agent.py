"""SubAgent: the Ray actor around :class:`~deluge_ray.agents._host.LoopHost`.

It runs many independent agent loops in its event loop, with their model calls made in
this process and their tools run here; what that means (one tool copy per actor, batched
checkpoints, the flush rule) is documented on the plain class. If the actor dies, the
driver restarts its unfinished loops elsewhere from the last checkpoint it received.

Example (the driver side, :class:`deluge_ray.agents._pool.SubAgentPool`, does all this)::

    agent = SubAgent.remote("swarm-0")
    ray.get(agent.configure.remote(setup))
    async for ref in agent.run_loops.options(num_returns="streaming").remote("s1", jobs):
        for event in unpack_events(await ref):
            print(event.index, event.rounds_done, event.response)
"""

from __future__ import annotations

import ray

from deluge_ray._process_gc import tune_server_gc
from deluge_ray.agents._host import LoopHost
from deluge_ray.agents._records import LoopJob, SwarmSetup, pack_events
from deluge_ray.metrics import swarm_metrics

__all__ = ["SubAgent"]


@ray.remote(num_cpus=0)
class SubAgent:
    """Hosts agent loops; see the module docstring. ``agent_id`` names it to the limiters."""

    def __init__(self, agent_id: str) -> None:
        tune_server_gc()  # this process is the actor's alone: see deluge_ray._process_gc
        self._host = LoopHost(agent_id)
        self._metrics: dict = {}  # swarm id -> its model calls' recorder (None: metrics off)

    async def configure(self, setup: SwarmSetup) -> str:
        """Keep ``setup`` (spec, tools, limits) for the loops of ``setup.swarm_id``."""
        self._host.configure(setup)
        self._metrics[setup.swarm_id] = swarm_metrics(setup)
        return self._host.host_id

    async def run_loops(self, swarm_id: str, jobs: list[LoopJob]):
        """Run ``jobs``; yield lists of ``LoopEvent``, packed (``pack_events``), until every
        loop has finished."""
        metrics = self._metrics.get(swarm_id)
        async for events in self._host.run_loops(swarm_id, jobs):
            if metrics is not None:  # one record per batch of events, not per model call
                metrics.record(events)
            yield pack_events(events)

    async def forget(self, swarm_id: str) -> None:
        """Drop a swarm's setup (and its tool copies)."""
        self._host.forget(swarm_id)
        self._metrics.pop(swarm_id, None)

    async def ping(self) -> str:
        """Liveness check; returns the agent id."""
        return self._host.host_id

    async def close(self) -> None:
        """Close the HTTP session and give unused lease capacity back."""
        await self._host.close()
