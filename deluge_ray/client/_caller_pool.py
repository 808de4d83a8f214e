"""The Ray side of dispatch: a pool of ProviderCaller actors behind the CallerPool protocol.

Callers are created with ``num_cpus=0`` and ``scheduling_strategy="SPREAD"``; a lost one
(killed, node gone) is replaced by a fresh actor, and the dispatcher resends its work.
The pool also tells every rate limiter the lost caller leased from (the limiters of the
routes of the specs it was sent) to release it at once: its concurrency slots come back
now instead of after the limiter's ``slot_reclaim_seconds``.

``initial`` callers start at once and the rest when the first answer comes back. Why:
each actor is a new worker process (about 0.5 s of CPU to start), and a cold client's first
call (often a single prompt) should not wait behind processes it does not need; by the
time a large batch has its first answer, the extra callers are worth starting.

    >>> pool = RayCallerPool(size=2, specs={}, name="demo", initial=1)   # doctest: +SKIP
    >>> len(pool.live_callers())                                         # doctest: +SKIP
    1
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Hashable
from typing import Any

from ..ratelimit._release import release_dead_caller
from ..transport._work import CallSpec, WorkBatch, WorkItem, WorkResult

__all__ = ["RayCallerPool"]

# How long shutdown waits for callers to return their leases before killing them.
_CLOSE_TIMEOUT_S = 5.0


class RayCallerPool:
    """``size`` ProviderCaller actors; ``specs`` is the client's live spec table.

    ``initial`` (default: ``size``) is how many start right away; see the module docstring.
    """

    def __init__(
        self, *, size: int, specs: dict[int, CallSpec], name: str, initial: int | None = None
    ) -> None:
        import ray

        from ..actors.provider_caller import ProviderCaller

        self._ray = ray
        self._actor_class = ProviderCaller
        self._specs = specs
        # The client name is user text: keep only a short, safe tag of it in caller ids.
        self._id_prefix = (
            f"{''.join(ch for ch in name if ch.isalnum())[:24]}-{uuid.uuid4().hex[:8]}"
        )
        self._created = 0
        self._size = size
        self._caller_ids: dict[Any, str] = {}
        # caller -> {limiter name: handle} of every route it was sent work for
        self._limiters_used: dict[Any, dict[str, Any]] = {}
        self._releases: set[asyncio.Task[int]] = set()
        start_now = size if initial is None else max(1, min(initial, size))
        self._live_callers: list[Any] = [self._spawn() for _ in range(start_now)]

    def _spawn(self) -> Any:
        caller_id = f"{self._id_prefix}-{self._created}"
        self._created += 1
        caller = self._actor_class.options(scheduling_strategy="SPREAD").remote(caller_id)
        self._caller_ids[caller] = caller_id
        return caller

    def live_callers(self) -> list[Hashable]:
        """The current callers (replacements included)."""
        return list(self._live_callers)

    async def stream_batch(
        self, caller: Any, items: list[WorkItem], blocklisted: frozenset[str]
    ) -> AsyncIterator[list[WorkResult]]:
        """One streaming ``run_batch`` call; yields each list of results it sends."""
        specs = {spec_id: self._specs[spec_id] for spec_id in {i.spec_id for i in items}}
        used = self._limiters_used.setdefault(caller, {})
        for spec in specs.values():
            for route in spec.routes:
                if route.limiter is not None:
                    used[route.limiter_name] = route.limiter
        batch = WorkBatch(items=items, specs=specs, blocklisted_models=blocklisted)
        stream = caller.run_batch.options(num_returns="streaming").remote(batch)
        async for ref in stream:
            results = await ref
            self._grow()
            yield results

    def _grow(self) -> None:
        """Start the callers that were deferred until the first answer (no-op after)."""
        while len(self._live_callers) < self._size:
            self._live_callers.append(self._spawn())

    def is_caller_lost(self, exc: BaseException) -> bool:
        """Actor death or an unreachable actor: resend its work elsewhere."""
        from ray.exceptions import ActorUnavailableError, ObjectLostError, RayActorError

        return isinstance(exc, (RayActorError, ActorUnavailableError, ObjectLostError))

    async def replace(self, caller: Any) -> None:
        """Swap a dead caller for a fresh one (a no-op if already replaced)."""
        if caller in self._live_callers:
            self._live_callers.remove(caller)
            self._live_callers.append(self._spawn())
            self._release_at_limiters(caller)

    def _release_at_limiters(self, caller: Any) -> None:
        """Tell each limiter the lost caller used to give its slots back now."""
        caller_id = self._caller_ids.pop(caller, None)
        limiters = self._limiters_used.pop(caller, {})
        # An unreachable caller may still be alive: kill it, so that no request of its
        # runs on slots the limiters are about to hand to others.
        try:
            self._ray.kill(caller)
        except Exception:
            pass
        if caller_id is None or not limiters:
            return
        # In the background: the lost caller's work is resent without waiting for this.
        release = release_dead_caller(caller_id, limiters.values())
        task = asyncio.get_running_loop().create_task(release)
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    def shutdown(self) -> None:
        """Close every caller (unused lease capacity goes back to the shared limiters,
        pending usage reports are delivered), then kill it."""
        closing = [caller.close.remote() for caller in self._live_callers]
        try:
            self._ray.wait(closing, num_returns=len(closing), timeout=_CLOSE_TIMEOUT_S)
        except Exception:
            pass
        for caller in self._live_callers:
            try:
                self._ray.kill(caller)
            except Exception:
                pass
        self._live_callers.clear()
        self._caller_ids.clear()
        self._limiters_used.clear()
