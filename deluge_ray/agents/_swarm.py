"""Agent swarms: many independent agent loops on SubAgent actors, results in input order.

:func:`process_agent_loops_async` (and its sync twin) is the public entry point; the
:class:`SubAgentPool` underneath is also what :class:`~deluge_ray.tool.prefab.SubAgentManager`
uses to run sub-loops.

**Where tools execute.** In the SubAgent actors, not on the driver. Each actor receives one
pickled copy of the tools when the swarm starts, shared by every loop that actor runs; a
tool's state (a counter, a cache, an open connection) therefore lives in the actor, one
copy per actor, and is gone when the swarm ends. To keep state in the driver (or shared by
all loops), give the tool a handle to a named Ray actor and call it from the tool::

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

    >>> from deluge_ray.client import LLMClient                       # doctest: +SKIP
    >>> client = LLMClient("gpt-4.1-mini")                            # doctest: +SKIP
    >>> results = client.process_agent_loops_sync(["2+2?", "3+3?"], tools=[add])  # doctest: +SKIP
    >>> [resp.completion for conv, resp in results]                  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import math
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..api_requests.response import Usage
from ..client._engine import apply_postprocess
from ..errors import ConfigurationError
from ..prompt import Conversation, Message
from ..transport._work import CallSpec, WorkResult
from ._loop import (
    AgentTools,
    check_max_rounds,
    copy_conversation,
    mark_stop,
    prepare_tools,
    supports_native_mcp,
)

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ..client._client import LLMClient

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

# A loop whose actor dies more often than this is answered with an error response.
MAX_RESTARTS_PER_LOOP = 3
_LOOPS_PER_ACTOR = 200
_MAX_DEFAULT_ACTORS = 8


# ---- records that travel to and from SubAgent actors ----------------------------------------
@dataclass
class SwarmSetup:
    """What every SubAgent of one swarm holds: the request spec, the tools, the limits."""

    swarm_id: str
    spec: CallSpec
    tools: AgentTools
    max_rounds: int
    max_concurrent: int
    max_new_tokens: int


@dataclass
class LoopJob:
    """One loop to run: its index in the swarm and where it starts (a checkpoint or not)."""

    index: int
    conversation: Conversation
    rounds_done: int = 0


@dataclass
class Spent:
    """What some model calls used: HTTP requests, 429s, retries, tokens and cost."""

    requests_sent: int = 0
    rate_limited: int = 0
    retries: int = 0
    usage: Usage = field(default_factory=Usage)
    cost: float = 0.0

    def add_result(self, result: WorkResult) -> None:
        """Count one model call's :class:`WorkResult`."""
        self.add(
            Spent(
                result.requests_sent,
                result.rate_limited,
                result.retries,
                result.response.usage or Usage(),
                result.response.cost or 0.0,
            )
        )

    def add(self, other: Spent) -> None:
        """Add ``other`` to these totals."""
        self.requests_sent += other.requests_sent
        self.rate_limited += other.rate_limited
        self.retries += other.retries
        self.usage = self.usage + other.usage
        self.cost += other.cost


@dataclass
class LoopEvent:
    """A checkpoint (``response is None``) or a loop's end: the messages added since the
    loop's previous event, the rounds done, the final response or an error, and what the
    model calls since the previous event used."""

    index: int
    rounds_done: int
    new_messages: list[Message] = field(default_factory=list)
    response: APIResponse | None = None
    error: str | None = None
    spent: Spent = field(default_factory=Spent)  # by its model calls since then

    @property
    def final(self) -> bool:
        return self.response is not None or self.error is not None


@dataclass(frozen=True)
class CheckpointInfo:
    """Passed to ``on_checkpoint``: loop ``index`` completed ``rounds_done`` rounds on the
    pool's actor number ``actor_index`` (whose handle is ``actor``)."""

    index: int
    rounds_done: int
    actor_index: int
    actor: Any = None


# ---- driver-side bookkeeping ----------------------------------------------------------------
@dataclass
class _Loop:
    index: int
    conversation: Conversation
    future: concurrent.futures.Future
    rounds_done: int = 0
    restarts: int = 0
    actor_index: int = -1
    spent: Spent = field(default_factory=Spent)


# Called once per loop on the pool's thread with its final response (success or error) and
# its totals; returns the response the loop's future gets (e.g. after postprocess).
LoopEndCallback = Callable[["APIResponse", "_Loop"], "APIResponse"]


@dataclass
class _Slot:
    index: int
    handle: Any
    alive: bool = True
    load: int = 0


class SubAgentPool:
    """SubAgent actors running loops for one client, tool set and ``max_rounds``.

    Runs on a private event-loop thread, so it can be used from any thread or loop:
    :meth:`start_loops` returns thread-safe futures of ``(Conversation, APIResponse)``.
    Call :meth:`close` when done (it kills the actors).

        pool = SubAgentPool(client, tools=[add], max_rounds=3, num_actors=2)
        futures = pool.start_loops([Conversation().user("2+2?")])
        conv, resp = futures[0].result()
        pool.close()
    """

    def __init__(
        self,
        client: LLMClient,
        *,
        tools: Sequence[Any] | None = None,
        max_rounds: int = 5,
        num_actors: int = 1,
        max_concurrent_agents: int = 10,
        on_checkpoint: Callable[[CheckpointInfo], Any] | None = None,
        on_loop_end: LoopEndCallback | None = None,
    ) -> None:
        check_max_rounds(max_rounds)
        for name, value in (
            ("num_actors", num_actors),
            ("max_concurrent_agents", max_concurrent_agents),
        ):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ConfigurationError(f"{name} must be a positive integer, got {value!r}.")
        # Keys, base URLs, limiters and Ray itself, resolved now in the caller's thread:
        # a missing key fails here, and ray.init wants the main thread.
        client._ensure_engine()
        self._client = client
        self._tools = tools
        self._max_rounds = max_rounds
        self._num_actors = num_actors
        self._max_concurrent = max_concurrent_agents
        self._on_checkpoint = on_checkpoint
        self._on_loop_end = on_loop_end
        self._swarm_id = f"swarm-{uuid.uuid4().hex[:12]}"
        self._loops: dict[int, _Loop] = {}
        self._slots: list[_Slot] = []
        self._next_index = itertools.count()
        self._lock = threading.Lock()
        self._setup: SwarmSetup | None = None
        self._started: asyncio.Future | None = None
        self._tasks: set[asyncio.Task] = set()
        self._closed = False
        self.restarted_loops = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="deluge-ray-swarm", daemon=True
        )
        self._thread.start()

    # ---- any thread --------------------------------------------------------------------
    @property
    def actors(self) -> list[Any]:
        """Handles of the SubAgent actors started so far (dead ones included)."""
        return [slot.handle for slot in self._slots]

    def start(self) -> None:
        """Start and configure the actors now (otherwise done by the first loops)."""
        asyncio.run_coroutine_threadsafe(self._ensure_started(), self._loop).result()

    def start_loops(self, conversations: Sequence[Conversation]) -> list[concurrent.futures.Future]:
        """Start one loop per conversation; futures of ``(Conversation, APIResponse)``."""
        if self._closed:
            raise ConfigurationError("this SubAgentPool is closed; create a new one")
        loops = []
        with self._lock:
            for conversation in conversations:
                index = next(self._next_index)
                loop = _Loop(index, copy_conversation(conversation), concurrent.futures.Future())
                self._loops[index] = loop
                loops.append(loop)
        asyncio.run_coroutine_threadsafe(self._dispatch(loops), self._loop)
        return [loop.future for loop in loops]

    def rounds_done(self, index: int) -> int:
        """Rounds loop ``index`` has completed, as far as the driver knows."""
        return self._loops[index].rounds_done

    def close(self) -> None:
        """Cancel what still runs, kill the actors and stop the pool's thread."""
        if self._closed:
            return
        self._closed = True
        import ray

        fut = asyncio.run_coroutine_threadsafe(self._cancel_all(), self._loop)
        try:
            fut.result(timeout=10)
        except Exception:
            pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        for slot in self._slots:
            try:
                ray.kill(slot.handle, no_restart=True)
            except Exception:
                pass

    # ---- pool thread -------------------------------------------------------------------
    async def _ensure_started(self) -> None:
        if self._started is None:
            self._started = self._loop.create_future()
            try:
                await self._start_actors()
                self._started.set_result(None)
            except BaseException as exc:
                self._started.set_exception(exc)
        await asyncio.shield(self._started)

    async def _start_actors(self) -> None:
        client = self._client
        prepared = await prepare_tools(
            self._tools,
            force_local_mcp=client.force_local_mcp,
            native_mcp=supports_native_mcp(client),
        )
        spec = CallSpec(
            spec_id=0,
            routes=client._routes,
            max_attempts=client.max_attempts,
            request_timeout=float(client.request_timeout),
            tools=tuple(prepared.request) or None,
            extra_headers=client.extra_headers,
            extra_body=client.extra_body,
            use_responses_api=client.use_responses_api,
            background=client.background,
        )
        self._setup = SwarmSetup(
            swarm_id=self._swarm_id,
            spec=spec,
            tools=prepared,
            max_rounds=self._max_rounds,
            max_concurrent=math.ceil(self._max_concurrent / self._num_actors),
            max_new_tokens=max(sp.max_new_tokens for sp in client.sampling_params),
        )
        await asyncio.gather(*(self._new_slot() for _ in range(self._num_actors)))

    async def _new_slot(self) -> _Slot:
        from ..actors.sub_agent import SubAgent

        index = len(self._slots)
        handle = SubAgent.options(scheduling_strategy="SPREAD").remote(f"{self._swarm_id}-{index}")
        slot = _Slot(index, handle)
        self._slots.append(slot)
        try:
            await handle.configure.remote(self._setup)
        except TypeError as exc:  # Ray cannot serialise the setup: almost always a tool
            raise ConfigurationError(
                "the tools must pickle to run on SubAgent actors (each actor gets a copy): "
                f"{exc}. Use run_agent_loop to run such tools on the driver."
            ) from exc
        return slot

    async def _dispatch(self, loops: list[_Loop]) -> None:
        try:
            await self._ensure_started()
        except BaseException as exc:
            for loop in loops:
                if not loop.future.done():
                    loop.future.set_exception(exc)
            return
        await self._send(loops)

    async def _send(self, loops: list[_Loop]) -> None:
        alive = [slot for slot in self._slots if slot.alive]
        if not alive:
            alive = [await self._new_slot()]
        shares: dict[int, list[_Loop]] = {}
        for loop in loops:
            slot = min(alive, key=lambda s: s.load)  # least loaded: even spread
            slot.load += 1
            loop.actor_index = slot.index
            shares.setdefault(slot.index, []).append(loop)
        for slot_index, share in shares.items():
            task = self._loop.create_task(self._consume(self._slots[slot_index], share))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _consume(self, slot: _Slot, loops: list[_Loop]) -> None:
        jobs = [LoopJob(lp.index, lp.conversation, lp.rounds_done) for lp in loops]
        failure: BaseException | None = None
        try:
            gen = slot.handle.run_loops.options(num_returns="streaming").remote(
                self._swarm_id, jobs
            )
            async for ref in gen:
                for event in await ref:
                    self._apply(event, slot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # actor died (or its call failed): restart what is left
            failure = exc
        slot.load -= sum(1 for lp in loops if lp.future.done())
        unfinished = [lp for lp in loops if not lp.future.done()]
        if not unfinished:
            return
        if failure is not None:
            slot.alive = await self._is_alive(slot)
        slot.load -= len(unfinished)
        await self._restart(unfinished, failure)

    async def _is_alive(self, slot: _Slot) -> bool:
        try:
            await asyncio.wait_for(slot.handle.ping.remote(), timeout=30)
            return True
        except Exception:
            return False

    async def _restart(self, loops: list[_Loop], failure: BaseException | None) -> None:
        why = f"{type(failure).__name__}: {failure}" if failure else "its actor stopped early"
        retry = []
        for loop in loops:
            loop.restarts += 1
            if loop.restarts > MAX_RESTARTS_PER_LOOP:
                self._fail(
                    loop, f"agent loop lost its SubAgent actor {loop.restarts} times ({why})"
                )
            else:
                retry.append(loop)
        self.restarted_loops += len(retry)
        if retry:
            await self._send(retry)

    def _apply(self, event: LoopEvent, slot: _Slot) -> None:
        loop = self._loops[event.index]
        if loop.future.done():
            return
        loop.conversation.messages.extend(event.new_messages)
        loop.rounds_done = event.rounds_done
        loop.spent.add(event.spent)
        if event.error is not None:
            self._fail(loop, f"agent loop failed in SubAgent actor: {event.error}")
        elif event.response is not None:
            response = event.response
            response.id = loop.index
            messages = loop.conversation.messages
            # The prompt of the last model call: everything before its reply.
            ends_with_reply = bool(messages) and messages[-1] is response.content
            response.prompt = Conversation(list(messages[:-1] if ends_with_reply else messages))
            self._end(loop, response)
        elif self._on_checkpoint is not None:
            self._on_checkpoint(
                CheckpointInfo(loop.index, loop.rounds_done, slot.index, slot.handle)
            )

    def _fail(self, loop: _Loop, message: str) -> None:
        from ..api_requests import APIResponse

        route = self._client._routes[0] if self._client._routes else None
        response = APIResponse(
            id=loop.index,
            model_internal=route.model.id if route else self._client.model_names[0],
            prompt=Conversation(list(loop.conversation.messages)),
            sampling_params=route.sampling_params if route else self._client.sampling_params[0],
            status_code=None,
            is_error=True,
            error_message=message,
        )
        self._end(loop, mark_stop(response, "error", loop.rounds_done))

    def _end(self, loop: _Loop, response: APIResponse) -> None:
        if self._on_loop_end is not None:
            try:
                response = self._on_loop_end(response, loop)
            except Exception as exc:  # never leave the loop's caller waiting
                loop.future.set_exception(exc)
                return
        loop.future.set_result((loop.conversation, response))

    async def _cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for loop in self._loops.values():
            if not loop.future.done():
                loop.future.cancel()


# ---- LLMClient methods (the lead binds these onto LLMClient) --------------------------------
def _default_actors(n_loops: int, max_concurrent_agents: int) -> int:
    busy = min(n_loops, max_concurrent_agents)
    return max(1, min(_MAX_DEFAULT_ACTORS, math.ceil(busy / _LOOPS_PER_ACTOR)))


async def process_agent_loops_async(
    client: LLMClient,
    prompts: Any,
    *,
    tools: Sequence[Any] | None = None,
    max_rounds: int = 5,
    max_concurrent_agents: int = 10,
    show_progress: bool = True,
    num_actors: int | None = None,
    on_checkpoint: Callable[[CheckpointInfo], Any] | None = None,
) -> list[tuple[Conversation, APIResponse]]:
    """Run one agent loop per prompt on SubAgent actors; ``(conversation, response)``
    pairs in input order.

    At most ``max_concurrent_agents`` loops run at once (split evenly over the actors);
    model calls share the client's rate limiter. ``num_actors`` (deluge_ray addition)
    defaults to one actor per 200 concurrently running loops, at most 8. Tools run in the
    actors – see the module docstring for what that means for their state.
    The client's ``postprocess`` runs on each loop's final response, and the progress
    display (``show_progress``) counts loops, with the tokens and cost of every model
    call they made.
    """
    check_max_rounds(max_rounds)
    conversations = client._to_conversations(prompts)

    def loop_ended(response: APIResponse, loop: _Loop) -> APIResponse:
        # What the engine does for each prompt, once per loop: postprocess on the driver,
        # then the tracker (every model call's tokens and cost, not only the last one's).
        response = apply_postprocess(client.postprocess, response)
        spent, usage = loop.spent, loop.spent.usage
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

    pool = SubAgentPool(
        client,
        tools=tools,
        max_rounds=max_rounds,
        num_actors=(
            num_actors
            if num_actors is not None
            else _default_actors(len(conversations), max_concurrent_agents)
        ),
        max_concurrent_agents=max_concurrent_agents,
        on_checkpoint=on_checkpoint,
        on_loop_end=loop_ended,
    )
    # Opened once the pool exists: bad arguments and missing keys fail before any display.
    opened_here = client._tracker is None
    tracker, display = client._get_tracker(show_progress)
    if not client._total_announced:
        tracker.add_to_total(len(conversations))
    try:
        futures = pool.start_loops(conversations)
        return list(await asyncio.gather(*(asyncio.wrap_future(f) for f in futures)))
    finally:
        await asyncio.to_thread(pool.close)
        if opened_here:
            client.close()


def process_agent_loops_sync(
    client: LLMClient, prompts: Any, **kwargs: Any
) -> list[tuple[Conversation, APIResponse]]:
    """:func:`process_agent_loops_async` from synchronous code (also inside a running loop)."""
    from ..client._sync import run_sync

    return run_sync(process_agent_loops_async(client, prompts, **kwargs))
