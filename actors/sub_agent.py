"""SubAgent: an async actor that runs many independent agent loops in its event loop.

Each loop is :func:`deluge_ray.agents._loop.agent_loop` (the same loop as on the driver).
Its model calls are made *in this process* with
:class:`~deluge_ray.transport._runner.RequestRunner` (lease from the shared RateLimiter,
build, send, retry, classify) over one aiohttp session, so a swarm obeys the same
provider limits as every other client of the same key. Its **tools run here, in this
actor**: the swarm's tools are pickled to the actor once (:meth:`SubAgent.configure`) and
every loop of that swarm on this actor shares that one copy (and its state).

What comes back is batched: :meth:`SubAgent.run_loops` is an async generator (called with
``num_returns="streaming"``) yielding *lists* of :class:`LoopEvent` – a checkpoint after
each completed round (only the messages added since the loop's previous event) and a
final event with the response – gathered over a few milliseconds, never one actor call
per round. If the actor dies, the driver restarts its unfinished loops elsewhere from the
last checkpoint it received.

Example (the driver side, :class:`deluge_ray.agents._swarm.SubAgentPool`, does all this)::

    agent = SubAgent.remote("swarm-0")
    ray.get(agent.configure.remote(setup))
    async for ref in agent.run_loops.options(num_returns="streaming").remote("s1", jobs):
        for event in await ref:
            print(event.index, event.rounds_done, event.response)
"""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import ray

from deluge_ray.agents._loop import agent_loop
from deluge_ray.agents._swarm import LoopEvent, LoopJob, Spent, SwarmSetup
from deluge_ray.transport._work import CallSpec, WorkItem

from ..transport._session import ProviderTransport

__all__ = ["SubAgent"]

# After the first event of a batch is ready, wait this long for more before yielding.
_EVENT_FLUSH_S = 0.02


class _InProcessModel:
    """The model call of loops in this actor: one RequestRunner, one HTTP session."""

    def __init__(self, caller_id: str) -> None:
        self._transport = ProviderTransport(caller_id)
        self._keys = itertools.count()
        self.runner = self._transport.runner()

    async def call(self, spec: CallSpec, conversation: Any, max_new_tokens: int) -> Any:
        item = WorkItem(
            key=next(self._keys),
            conversation=conversation,
            estimated_tokens=conversation.count_tokens(max_new_tokens),
            spec_id=spec.spec_id,
        )
        result = await self.runner.run(item, spec)
        result.response.prompt = conversation
        return result  # the WorkResult: its response and how many requests it took

    async def close(self) -> None:
        await self._transport.close()


class _Swarm:
    """One configured swarm on this actor: its setup, tools and concurrency limit."""

    def __init__(self, setup: SwarmSetup, model: _InProcessModel) -> None:
        self.setup = setup
        self.semaphore = asyncio.Semaphore(setup.max_concurrent)
        spec, max_new = setup.spec, setup.max_new_tokens

        async def call_model(conversation: Any, _tools: Any) -> Any:
            # The request tools are already in the spec; ``_tools`` is the same list.
            return await model.call(spec, conversation, max_new)

        self.call_model = call_model


async def _run_one(swarm: _Swarm, job: LoopJob, events: asyncio.Queue) -> None:
    # A module function, not a method: Ray wraps every async method of an actor class in
    # a tracing shim, which would cost a frame on every step of every loop.
    sent = len(job.conversation.messages)  # messages the driver already has
    spent = Spent()  # since the loop's last event

    def take_spent() -> Spent:
        nonlocal spent
        out, spent = spent, Spent()
        return out

    async def call_model(conversation: Any, tools: Any) -> Any:
        result = await swarm.call_model(conversation, tools)
        spent.add_result(result)
        return result.response

    def checkpoint(rounds: int, conversation: Any) -> None:
        nonlocal sent
        events.put_nowait(
            LoopEvent(job.index, rounds, conversation.messages[sent:], spent=take_spent())
        )
        sent = len(conversation.messages)

    async with swarm.semaphore:
        try:
            conversation, response = await agent_loop(
                job.conversation,
                call_model,
                tools=swarm.setup.tools,
                max_rounds=swarm.setup.max_rounds,
                rounds_done=job.rounds_done,
                on_round=checkpoint,
            )
        except Exception as exc:  # a bug, not a tool failure: report it for this loop
            events.put_nowait(
                LoopEvent(
                    job.index,
                    job.rounds_done,
                    [],
                    error=f"{type(exc).__name__}: {exc}",
                    spent=take_spent(),
                )
            )
            return
    response.prompt = {}  # the driver rebuilds the conversation; do not ship it twice
    events.put_nowait(
        LoopEvent(
            job.index,
            response.agent_rounds,
            conversation.messages[sent:],
            response=response,
            spent=take_spent(),
        )
    )


@ray.remote(num_cpus=0)
class SubAgent:
    """Hosts agent loops; see the module docstring. ``agent_id`` names it to the limiters."""

    def __init__(self, agent_id: str) -> None:
        self._agent_id = agent_id
        self._model = _InProcessModel(agent_id)
        self._swarms: dict[str, _Swarm] = {}

    async def configure(self, setup: SwarmSetup) -> str:
        """Keep ``setup`` (spec, tools, limits) for the loops of ``setup.swarm_id``."""
        self._swarms[setup.swarm_id] = _Swarm(setup, self._model)
        return self._agent_id

    async def run_loops(self, swarm_id: str, jobs: list[LoopJob]):
        """Run ``jobs``; yield lists of :class:`LoopEvent` until every loop has finished."""
        swarm = self._swarms.get(swarm_id)
        if swarm is None:
            raise RuntimeError(f"SubAgent {self._agent_id}: swarm {swarm_id!r} not configured")
        events: asyncio.Queue[LoopEvent] = asyncio.Queue()
        tasks = [asyncio.create_task(_run_one(swarm, job, events)) for job in jobs]
        finished = 0
        try:
            while finished < len(jobs):
                ready = [await events.get()]
                await asyncio.sleep(_EVENT_FLUSH_S)  # gather a batch: one yield, many events
                while not events.empty():
                    ready.append(events.get_nowait())
                finished += sum(1 for e in ready if e.final)
                yield ready
        finally:
            # The driver went away or cancelled: stop spending quota for nobody.
            for task in tasks:
                task.cancel()

    async def forget(self, swarm_id: str) -> None:
        """Drop a swarm's setup (and its tool copies)."""
        self._swarms.pop(swarm_id, None)

    async def ping(self) -> str:
        """Liveness check; returns the agent id."""
        return self._agent_id

    async def close(self) -> None:
        """Close the HTTP session and give unused lease capacity back."""
        await self._model.close()
