"""The driver side of a swarm: SubAgent actors running loops, and what happens when one dies.

:class:`SubAgentPool` spreads loops over SubAgent actors, keeps each
loop's conversation up to its last checkpoint (:class:`~deluge_ray.agents._checkpoint.LoopProgress`)
and, when an actor dies, restarts its unfinished loops on the surviving actors (a new
actor if none survive) from their last completed round (:meth:`SubAgentPool._actor_lost`).
A loop that loses its actor more than ``MAX_RESTARTS_PER_LOOP`` times is answered with an
error response. The pool runs on its own loop thread, so any thread or loop may use it.

**Placement.** Actors go to the cluster's nodes in turn
(:func:`~deluge_ray.actors._placement.next_spread_node`), so the nodes share them. Each
new loop goes to the actor with the fewest unfinished loops (ties: the one given fewest
loops so far, see :func:`place`); an actor's count drops as each of its loops ends, not
when its whole batch does. :meth:`SubAgentPool.add_actors` adds actors to a
running pool, and since they start empty, the loops started next go to them first. Loops
started together (one :meth:`~SubAgentPool.start_loops` call, or many calls before the
pool's thread gets to them) travel as one batch: one stream per actor, not per loop.
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

from .._loop_thread import LoopThread
from ..actors._placement import next_spread_node, spread_placement
from ..errors import ConfigurationError
from ..prompt import Conversation
from ..ratelimit._release import release_dead_caller
from ._checkpoint import LoopProgress
from ._context import AgentContext, as_agent_context
from ._fleet import Idle
from ._loop import check_max_rounds, copy_conversation, mark_stop
from ._options import LoopOptions
from ._records import LoopEvent, SwarmSetup, unpack_events
from ._wire_tools import prepare_swarm_tools, schemas_once

if TYPE_CHECKING:
    from ..api_requests import APIResponse
    from ..client._client import LLMClient

__all__ = [
    "MAX_RESTARTS_PER_LOOP",
    "CheckpointInfo",
    "EventCallback",
    "LoopEndCallback",
    "SubAgentPool",
]

# A loop whose actor dies more often than this is answered with an error response.
MAX_RESTARTS_PER_LOOP = 3

# A new SubAgent placed on a node that turns out dead is started again this many times.
_START_ATTEMPTS = 3


@dataclass(frozen=True)
class CheckpointInfo:
    """Passed to ``on_checkpoint``: loop ``index`` completed ``rounds_done`` rounds on the
    pool's actor number ``actor_index`` (whose handle is ``actor``)."""

    index: int
    rounds_done: int
    actor_index: int
    actor: Any = None


def _shippable_cache(cache: Any) -> Any:
    """``cache`` if it can travel to the actors, else a :class:`ConfigurationError`."""
    if cache is None:
        return None
    from ray import cloudpickle

    try:
        cloudpickle.dumps(cache)
    except Exception as exc:
        raise ConfigurationError(
            f"the client's cache ({type(cache).__name__}) cannot be sent to SubAgent actors "
            f"({type(exc).__name__}: {exc}); use SqliteCache or DistributedDictCache, or run "
            "the loops on the driver with run_agent_loop."
        ) from exc
    return cache


# ---- driver-side bookkeeping ----------------------------------------------------------------
@dataclass
class _Loop(LoopProgress):
    """A loop's progress plus what the pool needs: its future, restarts and actor."""

    future: concurrent.futures.Future = field(default_factory=concurrent.futures.Future)
    restarts: int = 0
    actor_index: int = -1


# Called on the pool's thread with each event of a loop and the loop's messages before it.
EventCallback = Callable[[LoopEvent, list[Any]], None]

# Called once per loop on the pool's thread with its final response (success or error) and
# its totals; returns the response the loop's future gets (e.g. after postprocess).
LoopEndCallback = Callable[["APIResponse", "_Loop"], "APIResponse"]


@dataclass
class _Slot:
    index: int
    handle: Any
    caller_id: str  # the name this actor leases under, for telling limiters it died
    alive: bool = True
    load: int = 0  # loops placed here and not finished yet
    placed: int = 0  # loops ever placed here (breaks ties: new actors get work first)


def place(count: int, slots: Sequence[_Slot]) -> list[_Slot]:
    """Choose a slot for each of ``count`` new loops: the least loaded one each time (ties:
    the one given fewest loops so far, so an actor added mid-swarm takes new loops), and
    count the loops on the slots chosen.

    >>> a, b = _Slot(0, None, "a", load=2), _Slot(1, None, "b")
    >>> [slot.caller_id for slot in place(3, [a, b])]
    ['b', 'b', 'a']
    """
    chosen = []
    for _ in range(count):
        slot = min(slots, key=lambda s: (s.load, s.placed))
        slot.load += 1
        slot.placed += 1
        chosen.append(slot)
    return chosen


class SubAgentPool:
    """SubAgent actors running loops for one client, tool set and ``max_rounds``.

    Runs on a private event-loop thread, so it can be used from any thread or loop:
    :meth:`start_loops` returns thread-safe futures of ``(Conversation, APIResponse)``.
    Call :meth:`close` when done (it kills the actors).

        pool = SubAgentPool(client, tools=[add], max_rounds=3, num_actors=2)  # or a context
        futures = pool.start_loops([Conversation().user("2+2?")])
        conv, resp = futures[0].result()
        pool.close()
    """

    def __init__(
        self,
        client: LLMClient | AgentContext,
        *,
        tools: Sequence[Any] | None = None,
        max_rounds: int = 5,
        num_actors: int = 1,
        max_concurrent_agents: int = 10,
        on_checkpoint: Callable[[CheckpointInfo], Any] | None = None,
        on_loop_end: LoopEndCallback | None = None,
        options: LoopOptions | None = None,
        on_event: EventCallback | None = None,
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
        self._context = as_agent_context(client)
        self._context.ensure_ready()
        self._tools = tools
        self._max_rounds = max_rounds
        self._num_actors = num_actors
        self._max_concurrent = max_concurrent_agents
        self._on_checkpoint = on_checkpoint
        self._on_loop_end = on_loop_end
        self._options = options or LoopOptions()
        self._on_event = on_event
        self._fleet = self._context.fleet
        self._swarm_id = f"swarm-{uuid.uuid4().hex[:12]}"
        self._loops: dict[int, _Loop] = {}
        self._slots: list[_Slot] = []
        self._next_index = itertools.count()
        self._lock = threading.Lock()
        self._setup: SwarmSetup | None = None
        self._started: asyncio.Future | None = None
        self._tasks: set[asyncio.Task] = set()
        # Loops started but not yet handed to the pool's thread: loops started together
        # (a main agent's many start_subagent calls in one round) go out as one batch,
        # one stream per actor, not one stream per loop.
        self._pending: list[_Loop] = []
        self._closed = False
        self.restarted_loops = 0
        self._thread = LoopThread("deluge-ray-swarm")
        self._loop = self._thread.loop

    # ---- any thread --------------------------------------------------------------------
    @property
    def actors(self) -> list[Any]:
        """Handles of the SubAgent actors started so far (dead ones included)."""
        return [slot.handle for slot in self._slots]

    def start(self) -> None:
        """Start and configure the actors now (otherwise done by the first loops)."""
        asyncio.run_coroutine_threadsafe(self._ensure_started(), self._loop).result()

    def start_loops(
        self, conversations: Sequence[Conversation], rounds_done: Sequence[int] = ()
    ) -> list[concurrent.futures.Future]:
        """Start one loop per conversation (that has ``rounds_done`` rounds done, when
        given: a resumed loop); futures of ``(Conversation, APIResponse)``."""
        if self._closed:
            raise ConfigurationError("this SubAgentPool is closed; create a new one")
        loops = []
        with self._lock:
            for position, conversation in enumerate(conversations):
                index = next(self._next_index)
                done = rounds_done[position] if rounds_done else 0
                loop = _Loop(index, copy_conversation(conversation), done)
                self._loops[index] = loop
                loops.append(loop)
            first = not self._pending
            self._pending.extend(loops)
        if first:  # later calls before the pool's thread runs join this batch
            self._loop.call_soon_threadsafe(self._dispatch_pending)
        return [loop.future for loop in loops]

    def add_actors(self, count: int = 1) -> list[Any]:
        """Start ``count`` more SubAgent actors now (each runs up to the same share of
        ``max_concurrent_agents`` as the first ones); loops started from now on go to the
        least loaded actors, so the new ones take them first. Returns their handles."""
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ConfigurationError(f"count must be a positive integer, got {count!r}.")
        if self._closed:
            raise ConfigurationError("this SubAgentPool is closed; create a new one")
        slots = asyncio.run_coroutine_threadsafe(self._add_slots(count), self._loop).result()
        return [slot.handle for slot in slots]

    def rounds_done(self, index: int) -> int:
        """Rounds loop ``index`` has completed, as far as the driver knows."""
        return self._loops[index].rounds_done

    def close(self) -> None:
        """Cancel what still runs and stop the pool's thread. The actors go back to the
        client's fleet when every loop was answered (see :mod:`._fleet`), else die."""
        if self._closed:
            return
        self._closed = True
        import ray

        clean = all(
            loop.future.done() and not loop.future.cancelled() for loop in self._loops.values()
        )
        fut = asyncio.run_coroutine_threadsafe(self._cancel_all(), self._loop)
        try:
            fut.result(timeout=10)
        except Exception:
            pass
        self._thread.close()
        for slot in self._slots:
            if clean and slot.alive and self._fleet is not None:
                slot.handle.forget.remote(self._swarm_id)  # its tool copies, not the actor
                self._fleet.give_back(Idle(slot.handle, slot.caller_id))
                continue
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
        context = self._context
        prepared = await prepare_swarm_tools(
            self._tools, force_local_mcp=context.force_local_mcp, native_mcp=context.native_mcp
        )
        self._setup = SwarmSetup(
            swarm_id=self._swarm_id,
            spec=context.swarm_spec(
                schemas_once(prepared.request), **self._options.request_options
            ),
            tools=prepared,
            max_rounds=self._max_rounds,
            max_concurrent=math.ceil(self._max_concurrent / self._num_actors),
            max_new_tokens=context.max_new_tokens,
            max_turns_warning=self._options.max_turns_warning,
            send_round_responses=self._options.on_round_complete is not None,
            tool_timeout=self._options.tool_timeout,
            cache=_shippable_cache(context.cache),
            request_key=context.request_key,
            tenancy=context.tenancy,
        )
        await asyncio.gather(*(self._new_slot() for _ in range(self._num_actors)))

    async def _new_slot(self) -> _Slot:
        from ..actors.sub_agent import SubAgent
        from ..client._caller_pool import lost_with_its_node

        fleet = self._fleet
        kept = fleet.take() if fleet is not None else None
        while kept is not None and fleet is not None:  # left running by an earlier swarm
            try:
                await kept.handle.configure.remote(self._setup)
            except TypeError:
                fleet.give_back(kept)
                break  # the setup does not pickle: a fresh actor fails alike, below
            except Exception:  # it died while idle: try the next one, or start one
                kept = fleet.take()
                continue
            # Indexes are taken without an await in between, so concurrent calls differ.
            slot = _Slot(len(self._slots), kept.handle, kept.caller_id)
            self._slots.append(slot)
            return slot
        index = len(self._slots)
        caller_id = f"{self._swarm_id}-{index}"
        slot = _Slot(index, None, caller_id)
        self._slots.append(slot)
        for attempt in itertools.count(1):
            slot.handle = SubAgent.options(**spread_placement(next_spread_node())).remote(caller_id)
            try:
                await slot.handle.configure.remote(self._setup)
                return slot
            except TypeError as exc:  # Ray cannot serialise the setup: almost always a tool
                slot.alive = False
                raise ConfigurationError(
                    "the tools must pickle to run on SubAgent actors (each actor gets a "
                    f"copy): {exc}. Use run_agent_loop to run such tools on the driver."
                ) from exc
            except Exception as exc:
                # Placed on a node that died before the actor ran (a node lost moments
                # ago is still offered until Ray's health check declares it dead): the
                # actor never held a loop or a lease, so another one takes its place.
                if attempt >= _START_ATTEMPTS or not lost_with_its_node(exc):
                    slot.alive = False  # never handed to the fleet: it is not usable
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _dispatch_pending(self) -> None:
        with self._lock:
            loops, self._pending = self._pending, []
        if self._closed:  # closed before this batch left: nobody will run it
            for loop in loops:
                loop.future.cancel()
            return
        task = self._loop.create_task(self._dispatch(loops))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _add_slots(self, count: int) -> list[_Slot]:
        await self._ensure_started()
        return list(await asyncio.gather(*(self._new_slot() for _ in range(count))))

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
        for loop, slot in zip(loops, place(len(loops), alive), strict=True):
            loop.actor_index = slot.index
            shares.setdefault(slot.index, []).append(loop)
        for slot_index, share in shares.items():
            task = self._loop.create_task(self._consume(self._slots[slot_index], share))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _consume(self, slot: _Slot, loops: list[_Loop]) -> None:
        jobs = [lp.job() for lp in loops]
        failure: BaseException | None = None
        try:
            gen = slot.handle.run_loops.options(num_returns="streaming").remote(
                self._swarm_id, jobs
            )
            async for ref in gen:
                for event in unpack_events(await ref):
                    self._apply(event, slot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # actor died (or its call failed): restart what is left
            failure = exc
        unfinished = [lp for lp in loops if not lp.future.done()]
        if unfinished:
            await self._actor_lost(slot, unfinished, failure)

    # ---- actor death: every decision about a lost actor and its loops is made here -----
    async def _actor_lost(
        self, slot: _Slot, unfinished: list[_Loop], failure: BaseException | None
    ) -> None:
        """``slot``'s stream ended with ``unfinished`` loops (``failure`` says why, or the
        actor stopped early): mark the actor dead if it is, restart the loops elsewhere."""
        if failure is not None:
            slot.alive = await self._is_alive(slot)
            if not slot.alive and self._setup is not None:
                # Its concurrency slots come back at once, not after the limiter's timeout.
                limiters = [route.limiter for route in self._setup.spec.routes]
                await release_dead_caller(slot.caller_id, limiters)
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
        if event.final:
            slot.load -= 1  # at once, so later loops see the actor's real load
        if self._on_event is not None:  # before apply: it needs the messages before
            self._on_event(event, list(loop.conversation.messages))
        loop.apply(event)
        if event.error is not None:
            self._fail(loop, f"agent loop failed in SubAgent actor: {event.error}")
        elif event.response is not None:
            event.response.id = loop.index
            self._end(loop, event.response)
        elif self._on_checkpoint is not None:
            self._on_checkpoint(
                CheckpointInfo(loop.index, loop.rounds_done, slot.index, slot.handle)
            )

    def _fail(self, loop: _Loop, message: str) -> None:
        from ..api_requests import APIResponse

        assert self._setup is not None  # loops end only after the actors started
        route = self._setup.spec.routes[0]
        response = APIResponse.error(
            id=loop.index,
            model=route.model,
            prompt=Conversation(list(loop.conversation.messages)),
            sampling_params=route.sampling_params,
            message=message,
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
