"""Agent swarms: many independent agent loops on SubAgent actors, results in input order.

:func:`process_agent_loops_async` (and its sync twin) is the public entry point; the
:class:`~deluge_ray.agents._pool.SubAgentPool` underneath is also what :class:`~deluge_ray.tool.prefab.SubAgentManager`
uses to run sub-loops.

**Where tools execute.** In the SubAgent actors, not on the driver. ``tools=`` takes
either form:

* **a list** (as in lm-deluge): each actor receives one pickled copy when the swarm
  starts, shared by every loop that actor runs; a tool's state (a counter, a cache, an
  open connection) therefore lives in the actor, one copy per actor, and is gone when
  the swarm ends;
* **a tool factory** (deluge_ray addition): a zero-argument callable returning that list,
  e.g. ``tools=lambda: FilesystemManager().get_tools() + TodoManager().get_tools()``. It
  is called once per loop, in the actor running the loop, so each loop has its own
  workspace, todo list or memory. It is also called on the driver, to learn the tools'
  schemas and names; every call must make the same tools. A loop restarted elsewhere (its actor died, or a resumed durable swarm) gets a
  fresh set. ``run_agent_loop`` accepts a factory too and calls it once.

Whichever form, a tool that raises (any exception, ``SystemExit`` included), outlasts
``tool_timeout`` or returns something that cannot travel back (a lock, an object pickle
cannot find) gives the model an ``"Error: ..."`` result to read; the loop goes on.

To keep state in the driver (or shared by all loops), give the tool a handle to a named
Ray actor and call it from the tool::

    @ray.remote(num_cpus=0)
    class Notes:
        def __init__(self): self.items = []
        def add(self, text): self.items.append(text); return len(self.items)

    notes = Notes.options(name="notes", namespace="deluge_ray").remote()

    async def remember(text: str) -> int:
        '''Store a note.'''
        return await ray.get_actor("notes", namespace="deluge_ray").add.remote(text)

or run the loops on the driver with ``run_agent_loop`` (tools then run in this process).

**Losing an actor loses no loop.** After every completed round an actor sends a checkpoint
(the messages that round added); the pool keeps each loop's conversation up to its last
checkpoint. When an actor dies, its unfinished loops restart on the surviving actors (a new
actor if none survive) from their last completed round.

**Losing the driver loses no loop either, with** ``checkpoint=`` (a SQLite file path, a
SqliteCache, a DistributedDictCache or a CacheActor handle): every loop's conversation is
recorded after each round, and the same call made again after the driver died (even by
SIGKILL) returns the finished loops from the record without running them and resumes the
others from their last recorded round. How calls are told apart and what the rerun
re-sends: :mod:`deluge_ray.agents._durable`.

    >>> from deluge_ray.client import LLMClient                       # doctest: +SKIP
    >>> client = LLMClient("gpt-4.1-mini")                            # doctest: +SKIP
    >>> results = client.process_agent_loops_sync(["2+2?", "3+3?"], tools=[add])  # doctest: +SKIP
    >>> [resp.completion for conv, resp in results]                  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ..api_requests.response import apply_postprocess
from ..prompt import Conversation
from ..prompt._prompts import to_conversations
from ._context import AgentContext, as_agent_context
from ._driver_swarm import run_loops_on_driver
from ._durable import DurableRun, open_checkpoint
from ._loop import check_max_rounds
from ._options import LoopOptions
from ._pool import CheckpointInfo, EventCallback, SubAgentPool
from ._records import LoopEvent, LoopJob, Spent, SwarmSetup
from ._replay import SwarmReplay

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ..client._client import LLMClient
    from ._pool import _Loop

__all__ = [
    "CheckpointInfo",
    "LoopEvent",
    "LoopJob",
    "Spent",
    "SubAgentPool",
    "SwarmSetup",
    "process_agent_loops_async",
    "process_agent_loops_sync",
]

# One SubAgent runs a few hundred loops in one event loop at about 1 ms of CPU per model
# call, so a swarm that keeps more loops busy needs more actors to use more cores – but
# never more than the cluster has CPUs: on 2 cores, 5 actors of 200 loops cost 3x the CPU
# of 2 (each process's start is ~1.3 s of CPU, and they fight over the cores).
_LOOPS_PER_ACTOR = 200
_MAX_DEFAULT_ACTORS = 8


def _default_actors(n_loops: int, max_concurrent_agents: int, cluster_cpus: int = 1) -> int:
    """SubAgent actors for a swarm: one per 200 loops running at once, at most one per
    CPU of the cluster and 8."""
    busy = min(n_loops, max_concurrent_agents)
    wanted = math.ceil(busy / _LOOPS_PER_ACTOR)
    return max(1, min(_MAX_DEFAULT_ACTORS, cluster_cpus, wanted))


def _cluster_cpus() -> int:
    import ray

    return int(ray.cluster_resources().get("CPU", 1))


async def process_agent_loops_async(
    client: LLMClient | AgentContext,
    prompts: Any,
    *,
    tools: Sequence[Any] | Callable[[], Sequence[Any]] | None = None,
    max_rounds: int = 5,
    max_concurrent_agents: int = 10,
    show_progress: bool = True,
    num_actors: int | None = None,
    on_checkpoint: Callable[[CheckpointInfo], Any] | None = None,
    options: LoopOptions | None = None,
    checkpoint: Any = None,
) -> list[tuple[Conversation, APIResponse]]:
    """Run one agent loop per prompt on SubAgent actors; ``(conversation, response)``
    pairs in input order.

    At most ``max_concurrent_agents`` loops run at once (split evenly over the actors);
    model calls share the client's rate limiter. ``num_actors`` (deluge_ray addition)
    defaults to one actor per 200 concurrently running loops, at most one per CPU of the
    cluster and 8; actors an earlier swarm of the same client left idle are reused.
    ``tools`` is a list (one copy per actor) or a tool factory (one set per loop) – see
    the module docstring. ``options`` (request options, final-turn warning, callbacks) are
    described in :mod:`deluge_ray.agents._options`; callbacks run here, on the driver.
    With ``on_text_delta`` the loops themselves run on the driver, their replies
    streamed: see :mod:`deluge_ray.agents._driver_swarm`.
    ``checkpoint`` (a SQLite path, a SqliteCache, a DistributedDictCache or a CacheActor
    handle) makes the swarm durable: see :mod:`deluge_ray.agents._durable`.
    The client's ``postprocess`` runs on each loop's final response, and the progress
    display (``show_progress``) counts loops, with the tokens and cost of every model
    call they made.
    """
    if options is not None and options.on_text_delta is not None:
        return await run_loops_on_driver(  # each piece of text must reach the driver
            as_agent_context(client),
            prompts,
            tools=tools,
            max_rounds=max_rounds,
            max_concurrent_agents=max_concurrent_agents,
            options=options,
            checkpoint=checkpoint,
        )
    check_max_rounds(max_rounds)
    store = open_checkpoint(checkpoint) if checkpoint is not None else None
    try:
        options = options or LoopOptions()
        conversations = to_conversations(prompts)
        if not conversations:
            return []  # as 0.0.168: nothing to run, no actors started
        context = as_agent_context(client)
        durable = None
        if store is not None:
            context.ensure_ready()  # the request key and a CacheActor need Ray and keys
            durable = await DurableRun.open(
                store, context, conversations, tools, max_rounds, options
            )
            store = None  # the run closes it
    finally:
        if store is not None:
            store.close()
    try:
        return await _run_swarm(
            context,
            conversations,
            tools,
            (max_rounds, max_concurrent_agents, num_actors),
            show_progress,
            on_checkpoint,
            options,
            durable,
        )
    finally:
        if durable is not None:
            await asyncio.to_thread(durable.close)


async def _run_swarm(
    context: AgentContext,
    conversations: list[Conversation],
    tools: Any,
    sizes: tuple[int, int, int | None],
    show_progress: bool,
    on_checkpoint: Callable[[CheckpointInfo], Any] | None,
    options: LoopOptions,
    durable: DurableRun | None,
) -> list[tuple[Conversation, APIResponse]]:
    max_rounds, max_concurrent_agents, num_actors = sizes

    def loop_ended(response: APIResponse, loop: _Loop) -> APIResponse:
        # What the engine does for each prompt, once per loop: postprocess on the driver,
        # then the tracker (every model call's tokens and cost, not only the last one's).
        return _count_loop(context.postprocess, response, loop.spent, tracker, display)

    indexes, starts, rounds = list(range(len(conversations))), conversations, []
    results: list[Any] = [None] * len(conversations)
    if durable is not None:
        indexes, starts, rounds = durable.starts(conversations)
        context = durable.context
    if num_actors is None:
        context.ensure_ready()  # Ray, to count the cluster's CPUs
        num_actors = _default_actors(len(starts) or 1, max_concurrent_agents, _cluster_cpus())
    replay = SwarmReplay(options.hooks()) if options.has_hooks else None
    pool = SubAgentPool(
        context,
        tools=tools,
        max_rounds=max_rounds,
        num_actors=num_actors,
        max_concurrent_agents=max_concurrent_agents,
        on_checkpoint=on_checkpoint,
        on_loop_end=loop_ended,
        options=options,
        on_event=_events_to(
            replay.on_event if replay is not None else None,
            durable.journal.on_event if durable is not None else None,
        ),
    )
    # Opened once the pool exists: bad arguments and missing keys fail before any display.
    try:
        with context.progress(show_progress, len(conversations)) as (tracker, display):
            for index, (conversation, response) in (durable.finished if durable else {}).items():
                ended = _count_loop(context.postprocess, response, Spent(), tracker, display)
                results[index] = (conversation, ended)
            futures = pool.start_loops(starts, rounds) if starts else []
            ran = await asyncio.gather(*(asyncio.wrap_future(f) for f in futures))
            for index, result in zip(indexes, ran, strict=True):
                results[index] = result
    finally:
        await asyncio.to_thread(pool.close)
    if replay is not None:
        await replay.finish()
        for pool_index, exc in replay.failures.items():
            index = indexes[pool_index]
            results[index] = (conversations[index], _callback_failed(results[index][1], exc))
    return results


def _count_loop(
    postprocess: Any, response: APIResponse, spent: Spent, tracker: Any, display: Any
) -> APIResponse:
    """A loop's end on the driver: the client's postprocess, then the tracker and display."""
    response = apply_postprocess(postprocess, response)
    usage = spent.usage
    tracker.record_attempts(spent.requests_sent, spent.rate_limited, spent.retries)
    tracker.record_result(
        succeeded=not response.is_error,
        input_tokens=usage.input_tokens,
        output_tokens=usage.output_tokens,
        cache_read_tokens=usage.cache_read_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        cost=spent.cost,
    )
    display.refresh()
    return response


def _events_to(*callbacks: EventCallback | None) -> EventCallback | None:
    """One event callback calling each of ``callbacks`` given, in order."""
    chosen = [c for c in callbacks if c is not None]
    if len(chosen) < 2:
        return chosen[0] if chosen else None

    def both(event: LoopEvent, before: list[Any]) -> None:
        for callback in chosen:
            callback(event, before)

    return both


def _callback_failed(response: APIResponse, exc: BaseException) -> APIResponse:
    """The loop's answer when one of its callbacks raised (0.0.168: the error's text)."""
    from ..api_requests import APIResponse

    return APIResponse.error(
        id=response.id,
        model=response.model_internal,
        prompt=response.prompt,
        sampling_params=response.sampling_params,
        message=str(exc),
    )


def process_agent_loops_sync(
    client: LLMClient | AgentContext, prompts: Any, **kwargs: Any
) -> list[tuple[Conversation, APIResponse]]:
    """:func:`process_agent_loops_async` from synchronous code (also inside a running loop)."""
    from ..client._sync import run_sync

    return run_sync(process_agent_loops_async(client, prompts, **kwargs))
