"""The Ray side of dispatch: a client's view of its driver's ProviderCaller actors, behind
the CallerPool protocol.

The actors themselves belong to the driver (``_driver_callers``): every client of one
process with a default pool size shares them, and the last client to close (or be
garbage-collected) closes them. A client given ``num_callers=`` has that many of its own.

Callers are created with ``num_cpus=0`` on the cluster's nodes in turn; a lost one
(killed, node gone) is replaced by a fresh actor, and the dispatcher resends its work.
The pool also tells every rate limiter the lost caller leased from (the limiters of the
routes of the specs it was sent) to release it at once: its concurrency slots come back
now instead of after the limiter's ``slot_reclaim_seconds``.

``initial`` callers start at once and the rest when the first answer comes back. Why:
each actor is a new worker process (about 0.5 s of CPU to start), and a cold client's first
call (often a single prompt) should not wait behind processes it does not need; by the
time a large batch has its first answer, the extra callers are worth starting.

    >>> pool = RayCallerPool(size=2, specs={}, initial=1)   # doctest: +SKIP
    >>> len(pool.live_callers())                                         # doctest: +SKIP
    1
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections.abc import AsyncIterator, Hashable
from typing import Any

from ..ratelimit._release import release_dead_caller
from ..transport._work import CallSpec, WorkBatch, WorkItem, WorkResult
from ._driver_callers import acquire_driver_callers, release_driver_callers

__all__ = ["RayCallerPool", "lost_with_its_node"]

# How Ray words an actor's death when its node died (GCS messages, Ray 2.x).
_NODE_GONE = re.compile(r"node (has |was )?died|node is dead|node .*(dead|unavailable)", re.I)


def lost_with_its_node(exc: BaseException) -> bool:
    """True when ``exc`` says the actor was lost because its node went away.

    Ray reports a node removed under a running call as ``NodeDiedError``, as an
    ``ActorUnavailableError`` (the actor cannot be reached: its node is gone or cut off;
    our callers never restart, so it is not coming back), or as an ``ActorDiedError``
    whose cause is the node (a preempted node, or a message naming the dead node). A
    caller that crashed on its own (its process died, ran out of memory) is not: that
    may be the item's doing, and counts against it.
    """
    from ray.exceptions import ActorDiedError, ActorUnavailableError, NodeDiedError

    if isinstance(exc, (NodeDiedError, ActorUnavailableError)):
        return True
    if isinstance(exc, ActorDiedError):
        return bool(getattr(exc, "preempted", False)) or bool(_NODE_GONE.search(str(exc)))
    return False


class RayCallerPool:
    """A client's share of its driver's ProviderCallers; ``specs`` is its live spec table.

    ``size`` is how many callers this client wants (shared callers number the largest any
    open client wants); ``initial`` (default: ``size``) how many must run right away;
    ``shared=False`` gives the client callers of its own. See the module docstring.
    """

    def __init__(
        self,
        *,
        size: int,
        specs: dict[int, CallSpec],
        initial: int | None = None,
        shared: bool = True,
    ) -> None:
        import ray

        self._ray = ray
        self._specs = specs
        self._callers = acquire_driver_callers(shared=shared)
        # A client dropped without shutdown() still gives its share back when collected.
        self._release = weakref.finalize(
            self, release_driver_callers, self._callers, graceful=False
        )
        # caller -> (its id, {limiter name: handle} of every route this client sent it)
        self._limiters_used: dict[Any, tuple[str, dict[str, Any]]] = {}
        self._releases: set[asyncio.Task[int]] = set()
        start_now = size if initial is None else max(1, min(initial, size))
        self._callers.want(size=size, initial=start_now)

    def live_callers(self) -> list[Hashable]:
        """The driver's current callers (replacements included)."""
        return list(self._callers.callers)

    async def stream_batch(
        self, caller: Any, items: list[WorkItem], blocklisted: frozenset[str]
    ) -> AsyncIterator[list[WorkResult]]:
        """One streaming ``run_batch`` call; yields each list of results it sends."""
        specs = {spec_id: self._specs[spec_id] for spec_id in {i.spec_id for i in items}}
        caller_id = self._callers.caller_ids.get(caller, "")
        _, used = self._limiters_used.setdefault(caller, (caller_id, {}))
        for spec in specs.values():
            for route in spec.routes:
                if route.limiter is not None:
                    used[route.limiter_name] = route.limiter
        batch = WorkBatch(items=items, specs=specs, blocklisted_models=blocklisted)
        stream = caller.run_batch.options(num_returns="streaming").remote(batch)
        async for ref in stream:
            results = await ref
            self._callers.grow()
            yield results

    def grow(self) -> None:
        """Start the callers deferred until a first answer (the driver's own, see _starter)."""
        self._callers.grow()

    def is_caller_lost(self, exc: BaseException) -> bool:
        """Actor death, an unreachable actor or its node gone: resend its work elsewhere.

        Every failure of Ray's own machinery counts (a lost node shows up as any of them,
        depending on when the call meets it); only an error the caller's code raised
        (``RayTaskError``) or a Ray that refuses the call outright fails the items.
        """
        from ray.exceptions import (
            LocalRayletDiedError,
            NodeDiedError,
            ObjectLostError,
            RayActorError,
            RaySystemError,
            WorkerCrashedError,
        )

        lost = (
            RayActorError,  # ActorDiedError, ActorUnavailableError
            ObjectLostError,  # OwnerDiedError, ObjectFetchTimedOutError, ...
            NodeDiedError,
            WorkerCrashedError,
            LocalRayletDiedError,
            RaySystemError,
        )
        return isinstance(exc, lost)

    def is_node_lost(self, exc: BaseException) -> bool:
        """The caller went with its node (the dispatcher does not count that against the
        items it held): see :func:`lost_with_its_node`."""
        return lost_with_its_node(exc)

    async def replace(self, caller: Any) -> None:
        """Swap a dead caller for a fresh one (a no-op if already replaced, by any client)."""
        self._callers.replace(caller)
        self._release_at_limiters(caller)

    def _release_at_limiters(self, caller: Any) -> None:
        """Tell each limiter this client used through the lost caller to free its slots now."""
        caller_id, limiters = self._limiters_used.pop(caller, ("", {}))
        if not caller_id or not limiters:
            return
        # In the background: the lost caller's work is resent without waiting for this.
        release = release_dead_caller(caller_id, limiters.values())
        task = asyncio.get_running_loop().create_task(release)
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    def shutdown(self) -> None:
        """Give this client's share back; the driver's last client closes every caller
        (unused lease capacity goes back to the shared limiters, pending usage reports are
        delivered) and kills it."""
        self._limiters_used.clear()
        if self._release.detach() is not None:
            release_driver_callers(self._callers, graceful=True)

    @property
    def callers_started(self) -> int:
        """How many caller actors this driver has started in all (replacements included)."""
        return self._callers.created
