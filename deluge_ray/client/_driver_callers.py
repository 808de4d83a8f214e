"""The ProviderCaller actors of one driver, shared by every client it builds (issue 15, item 3).

A script or notebook that builds many clients (one per model, twelve in a ``gather``) used
to start a pool of caller processes per client; Ray then warned about "14 PYTHON worker
processes ... 7x the maximum expected". Now each client's
:class:`~deluge_ray.client._caller_pool.RayCallerPool` is a view onto one
:class:`DriverCallers` per driver (per Ray job: a re-initialised Ray is a new driver),
reference-counted by those views and closed when the last one closes or is
garbage-collected. Its size is the largest any open client asked for. A client given an
explicit ``num_callers`` keeps a pool of exactly that size to itself (``shared=False``).

Callers hold no per-client state that matters: every batch carries its own specs, and the
rate limiters are shared per key anyway.

    >>> callers = acquire_driver_callers()      # doctest: +SKIP
    >>> callers.want(size=4, initial=1)         # doctest: +SKIP
    >>> release_driver_callers(callers)         # doctest: +SKIP
"""

from __future__ import annotations

import math
import threading
import uuid
from typing import Any

from ..actors._placement import next_spread_node, spread_placement

__all__ = [
    "CONNECTIONS_PER_CALLER",
    "DriverCallers",
    "acquire_driver_callers",
    "callers_for",
    "release_driver_callers",
]

# The most requests (so open connections) one ProviderCaller should hold: see callers_for.
CONNECTIONS_PER_CALLER = 500
# Below that, one caller per this many concurrent requests (up to SMALL_POOL_MAX): short
# requests at a high rate are bound by each caller's CPU (building, parsing), not by
# connections, and two or more callers use more than one core.
REQUESTS_PER_CALLER_SHORT = 128
SMALL_POOL_MAX = 4
# However many concurrent requests a client asks for: each caller is a process (~150 MB).
MAX_DEFAULT_CALLERS = 32

# How long the last release waits for callers to return their leases before killing them.
_CLOSE_TIMEOUT_S = 5.0


def callers_for(max_concurrent_requests: int) -> int:
    """How many ProviderCallers a client that did not choose ``num_callers`` gets.

    One caller holds at most :data:`CONNECTIONS_PER_CALLER` (500) requests in flight;
    callers are added (up to :data:`MAX_DEFAULT_CALLERS`) when the client's
    ``max_concurrent_requests`` needs more. Why 500: each request in flight is an open
    socket, and the soft limit on open files of a process started without a raised limit
    is 1,024 on most Linux machines (Ray starts its workers with what its raylet had):
    500 leaves the rest for Ray's own sockets, pipes and log files. A caller's memory
    also grows with the requests it holds (their bodies, parsed answers waiting to be
    streamed back), and losing a caller (its node gone) resends at most 500 requests.
    At 5,000 concurrent requests of 10 s that is 10 callers, each completing about 50
    requests a second: far from what one event loop can parse. Small pools keep the
    earlier rule, one caller per 128 concurrent requests up to 4, because short requests
    at a high rate are bound by CPU rather than by connections.

    The callers are Ray actors with ``num_cpus=0``, so Ray can always place them; they
    go to the cluster's nodes in turn (:func:`~deluge_ray.actors._placement.next_spread_node`).

    >>> callers_for(225), callers_for(1_000), callers_for(5_000), callers_for(100_000)
    (2, 4, 10, 32)
    """
    small = math.ceil(max_concurrent_requests / REQUESTS_PER_CALLER_SHORT)
    by_connections = math.ceil(max_concurrent_requests / CONNECTIONS_PER_CALLER)
    wanted = max(min(small, SMALL_POOL_MAX), by_connections)
    return max(1, min(MAX_DEFAULT_CALLERS, wanted))


class DriverCallers:
    """The live ProviderCaller actors of one driver; mutated under :attr:`lock`."""

    def __init__(self, ray: Any, actor_class: Any) -> None:
        self.lock = threading.Lock()
        self._ray = ray
        self._actor_class = actor_class
        self._id_prefix = f"driver-{uuid.uuid4().hex[:8]}"
        self._created = 0
        self._target = 0
        self.users = 0
        self.callers: list[Any] = []
        #: caller handle -> its id at the rate limiters
        self.caller_ids: dict[Any, str] = {}
        #: caller handle -> the node it was sent to (None: Ray chose)
        self._caller_nodes: dict[Any, str | None] = {}

    @property
    def created(self) -> int:
        """How many caller actors this driver has started in all (replacements included)."""
        return self._created

    def _spawn(self, avoid: str | None = None) -> Any:
        caller_id = f"{self._id_prefix}-{self._created}"
        self._created += 1
        node = next_spread_node(avoid=() if avoid is None else (avoid,))
        caller = self._actor_class.options(**spread_placement(node)).remote(caller_id)
        self.caller_ids[caller] = caller_id
        self._caller_nodes[caller] = node
        return caller

    def want(self, *, size: int, initial: int) -> None:
        """A client wants ``size`` callers, ``initial`` of them now (the rest on :meth:`grow`)."""
        with self.lock:
            self._target = max(self._target, size)
            while len(self.callers) < min(initial, self._target):
                self.callers.append(self._spawn())

    def grow(self) -> None:
        """Start the callers deferred until a first answer came back (no-op after)."""
        if len(self.callers) >= self._target:
            return
        with self.lock:
            while len(self.callers) < self._target:
                self.callers.append(self._spawn())

    def replace(self, caller: Any) -> bool:
        """Swap a lost caller for a fresh one; ``False`` if another client already did."""
        with self.lock:
            if caller not in self.callers:
                return False
            self.callers.remove(caller)
            # Not on the lost caller's node: if that node is gone, Ray may not know it yet.
            self.callers.append(self._spawn(avoid=self._caller_nodes.pop(caller, None)))
        try:  # an unreachable caller may still be alive: no request of its may keep running
            self._ray.kill(caller)
        except Exception:
            pass
        return True

    def close(self, *, graceful: bool) -> None:
        """Close every caller (leases go back, usage reports are delivered), then kill it.

        ``graceful=False`` (from a garbage-collection finaliser) kills without waiting.
        """
        with self.lock:
            callers, self.callers = self.callers, []
            self.caller_ids.clear()
            self._caller_nodes.clear()
        if graceful and callers:
            closing = [caller.close.remote() for caller in callers]
            try:
                self._ray.wait(closing, num_returns=len(closing), timeout=_CLOSE_TIMEOUT_S)
            except Exception:
                pass
        for caller in callers:
            try:
                self._ray.kill(caller)
            except Exception:
                pass


_registry: dict[str, DriverCallers] = {}
_registry_lock = threading.Lock()


def _driver_key(ray: Any) -> str:
    return ray.get_runtime_context().get_job_id()


def acquire_driver_callers(*, shared: bool = True) -> DriverCallers:
    """This driver's callers, with one more user (create them on first use).

    ``shared=False`` gives a set of callers of its own instead (a client whose size was
    chosen gets exactly that many callers, as before).
    """
    import ray

    from ..actors.provider_caller import ProviderCaller

    if not shared:
        own = DriverCallers(ray, ProviderCaller)
        own.users = 1
        return own
    key = _driver_key(ray)
    with _registry_lock:
        # Callers of an earlier Ray session of this process died with it.
        for stale in [k for k in _registry if k != key]:
            del _registry[stale]
        callers = _registry.get(key)
        if callers is None:
            callers = _registry[key] = DriverCallers(ray, ProviderCaller)
        callers.users += 1
    return callers


def release_driver_callers(callers: DriverCallers, *, graceful: bool = True) -> None:
    """One user fewer; the last one closes the callers."""
    with _registry_lock:
        callers.users -= 1
        if callers.users > 0:
            return
        for key, value in list(_registry.items()):
            if value is callers:
                del _registry[key]
    callers.close(graceful=graceful)
