"""What a SubAgent actor does, as a plain class: run many agent loops in one event loop.

Each loop is :func:`deluge_ray.agents._loop.agent_loop` (the same loop as on the driver).
Its model calls are made *in this process* with
:class:`~deluge_ray.transport._runner.RequestRunner` (lease from the shared RateLimiter,
build, send, retry, classify) over one aiohttp session, so a swarm obeys the same provider
limits as every other client of the same key. Its **tools run here**: a swarm's tools
arrive once (:meth:`LoopHost.configure`) and every loop of that swarm on this host shares
that one copy (and its state).

What comes back is batched: :meth:`LoopHost.run_loops` yields *lists* of
:class:`LoopEvent` (a checkpoint after each completed round, see
:mod:`deluge_ray.agents._checkpoint`, and a final event per loop), cut by the one flush
rule of :mod:`deluge_ray.transport._result_stream`.

The Ray actor (``deluge_ray.actors.sub_agent.SubAgent``) is a thin shell around this class.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from ..prompt import Conversation
from ..transport._result_stream import stream_in_batches
from ..transport._session import ProviderTransport
from ..transport._work import CallSpec, WorkItem, WorkResult
from ._checkpoint import LoopReporter
from ._loop import agent_loop
from ._records import LoopEvent, LoopJob, SwarmSetup
from ._wire_tools import tools_for_loop

if TYPE_CHECKING:
    from ..api_requests import APIResponse

__all__ = ["EVENT_FLUSH_S", "LoopHost"]

# How long a batch of events gathers more (see transport/_result_stream.py for the rule).
# Longer than a caller's 30 ms: a checkpoint never holds its loop up (the loop goes on in
# this actor), so only a loop's final event waits, and every batch costs both ends a Ray
# object report, so fewer, larger batches cost less CPU.
EVENT_FLUSH_S = 0.1


class _InProcessModel:
    """The model call of loops in this process: one RequestRunner, one HTTP session."""

    def __init__(self, caller_id: str) -> None:
        self._transport = ProviderTransport(caller_id)
        self._keys = itertools.count()
        self.runner = self._transport.runner()

    async def call(self, spec: CallSpec, conversation: Any, estimated_tokens: int) -> WorkResult:
        item = WorkItem(
            key=next(self._keys),
            conversation=conversation,
            estimated_tokens=estimated_tokens,
            spec_id=spec.spec_id,
        )
        result = await self.runner.run(item, spec)
        result.response.prompt = conversation
        return result  # the WorkResult: its response and how many requests it took

    async def close(self) -> None:
        await self._transport.close()


class _TokenTally:
    """One loop's token estimate, counting each message once.

    ``Conversation.count_tokens`` is a sum over messages (plus ``max_new_tokens``), and a
    loop's requests only grow: each holds the previous one's messages, the same objects,
    plus a reply and its tool results. Recounting the whole history every round was 7% of
    a SubAgent's event-loop time in a 3-round swarm; this counts only the new messages.
    """

    def __init__(self, max_new_tokens: int) -> None:
        self._max_new = max_new_tokens
        self._seen: list[Any] = []  # the messages counted, in order
        self._tokens: list[int] = []

    def estimate(self, conversation: Conversation) -> int:
        messages = conversation.messages
        same = 0
        while (
            same < len(self._seen) and same < len(messages) and messages[same] is self._seen[same]
        ):
            same += 1
        del self._seen[same:], self._tokens[same:]
        for message in messages[same:]:
            self._seen.append(message)
            self._tokens.append(Conversation([message]).count_tokens(0))
        return self._max_new + sum(self._tokens)


class _Swarm:
    """One configured swarm on this host: its setup, model call and concurrency limit."""

    def __init__(self, setup: SwarmSetup, model: _InProcessModel) -> None:
        from ..client._spend_gate import budgeted_model  # the driver's budget rules, here too

        self.setup = setup
        self.model = budgeted_model(model, setup.tenancy)
        self.semaphore = asyncio.Semaphore(setup.max_concurrent)
        self.cache_io = None
        if setup.cache is not None:
            from ..client._cache_io import CacheIO  # the engine's cache rules, here too

            self.cache_io = CacheIO(setup.cache, request_key=setup.request_key)

    async def cached(self, conversation: Conversation) -> APIResponse | None:
        """The client cache's answer to this exact conversation, if it has one."""
        if self.cache_io is None:
            return None
        (hit,) = await self.cache_io.lookup([conversation])
        if hit is not None:
            hit.local_cache_hit = True
            hit.prompt = conversation
        return hit

    async def remember(self, conversation: Conversation, response: APIResponse) -> None:
        """Cache a reply with content – tool calls included (lm-deluge caches only replies
        with text), so that re-running a swarm replays its finished rounds for free."""
        if self.cache_io is not None and not response.is_error and response.content is not None:
            from ..client._cache_io import CacheIO

            await self.cache_io.store([(conversation, CacheIO.snapshot(response))])


async def _run_one(swarm: _Swarm, job: LoopJob, emit: Callable[[LoopEvent], None]) -> None:
    # A module function, not a method: Ray wraps every async method of an actor class in
    # a tracing shim, which would cost a frame on every step of every loop.
    setup, reporter = swarm.setup, LoopReporter(job)
    tally = _TokenTally(setup.max_new_tokens)

    async def call_model(conversation: Any, _tools: Any) -> Any:
        # The request tools are already in the spec; ``_tools`` is the same list.
        hit = await swarm.cached(conversation)
        if hit is not None:
            return hit  # no request, no capacity, no cost: nothing to count
        result = await swarm.model.call(setup.spec, conversation, tally.estimate(conversation))
        reporter.count(result)
        await swarm.remember(conversation, result.response)
        return result.response

    async with swarm.semaphore:
        try:
            conversation, response = await agent_loop(
                job.conversation,
                call_model,
                tools=await tools_for_loop(setup.tools),
                max_rounds=setup.max_rounds,
                rounds_done=job.rounds_done,
                on_round=lambda rounds, conv, response: emit(
                    reporter.checkpoint(
                        rounds, conv, response if setup.send_round_responses else None
                    )
                ),
                max_turns_warning=setup.max_turns_warning,
                tool_timeout=setup.tool_timeout,
            )
        except Exception as exc:  # a bug, not a tool failure: report it for this loop
            emit(reporter.failed(exc))
            return
    emit(reporter.finished(conversation, response))


class LoopHost:
    """Hosts agent loops; see the module docstring. ``host_id`` names it to the limiters."""

    def __init__(self, host_id: str) -> None:
        self.host_id = host_id
        self._model = _InProcessModel(host_id)
        self._swarms: dict[str, _Swarm] = {}

    def configure(self, setup: SwarmSetup) -> None:
        """Keep ``setup`` (spec, tools, limits) for the loops of ``setup.swarm_id``."""
        self._swarms[setup.swarm_id] = _Swarm(setup, self._model)

    def run_loops(self, swarm_id: str, jobs: list[LoopJob]) -> AsyncIterator[list[LoopEvent]]:
        """Run ``jobs``; yield lists of :class:`LoopEvent` until every loop has finished."""
        swarm = self._swarms.get(swarm_id)
        if swarm is None:
            raise RuntimeError(f"SubAgent {self.host_id}: swarm {swarm_id!r} not configured")
        return stream_in_batches(
            lambda emit: [_run_one(swarm, job, emit) for job in jobs],
            len(jobs),
            is_final=lambda event: event.final,
            flush_s=EVENT_FLUSH_S,
        )

    def forget(self, swarm_id: str) -> None:
        """Drop a swarm's setup (and its tool copies)."""
        self._swarms.pop(swarm_id, None)

    async def close(self) -> None:
        """Close the HTTP session and give unused lease capacity back."""
        await self._model.close()
