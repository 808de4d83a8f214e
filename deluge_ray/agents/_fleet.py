"""The SubAgent actors one client keeps between swarms.

Starting a SubAgent is a new Ray worker process that imports deluge_ray: about 1.3 s of
CPU and, on a loaded 2-core machine, several seconds of wall time – more than a whole
swarm of short loops takes. So a swarm does not kill its actors when it ends: it hands the
live ones back to its client's :class:`SubAgentFleet`, and the client's next swarm takes
them (each swarm configures its own tools on them under its own id, and drops them at its
end). The fleet kills its actors when the client shuts down; a Ray driver's actors also
end with the driver.

Only actors whose swarm ended cleanly come back (every loop answered): an actor that may
still run a cancelled swarm's loops, or that died, is killed instead.

    >>> fleet = SubAgentFleet()
    >>> fleet.take() is None
    True
    >>> fleet.give_back(Idle(handle="h", caller_id="swarm-a-0"))
    >>> fleet.take().caller_id, fleet.take()
    ('swarm-a-0', None)
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["Idle", "SubAgentFleet"]


@dataclass(frozen=True)
class Idle:
    """A live SubAgent actor no swarm is using, and the caller id it leases under."""

    handle: Any
    caller_id: str


class SubAgentFleet:
    """Idle SubAgent actors of one client; see the module docstring. Thread-safe."""

    def __init__(self) -> None:
        self._idle: list[Idle] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self) -> Idle | None:
        """An idle actor (the most recently used one), or ``None``."""
        with self._lock:
            return self._idle.pop() if self._idle else None

    def give_back(self, actor: Idle) -> None:
        """Keep ``actor`` for the next swarm (killed at once if the fleet is closed)."""
        with self._lock:
            if not self._closed:
                self._idle.append(actor)
                return
        _kill(actor.handle)

    @property
    def idle(self) -> int:
        """How many actors wait for a swarm."""
        return len(self._idle)

    def close(self) -> None:
        """Close, then kill, every idle actor; actors given back later are killed too.

        Closing first gives each actor's leased capacity (its concurrency slots among it)
        back to the limiters: a plain kill left them held for the limiter's
        ``slot_reclaim_seconds`` (120 s), so the next client of the key crawled.
        """
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        _close_all([actor.handle for actor in idle])
        for actor in idle:
            _kill(actor.handle)


# Seconds shutdown waits for idle actors to give their capacity back before killing them.
_CLOSE_TIMEOUT_S = 10.0


def _close_all(handles: list[Any]) -> None:
    if not handles:
        return
    import ray

    try:
        ray.get([handle.close.remote() for handle in handles], timeout=_CLOSE_TIMEOUT_S)
    except Exception:
        pass  # a dead or stuck actor: the kill below ends it; the limiter reclaims later


def _kill(handle: Any) -> None:
    import ray

    try:
        ray.kill(handle, no_restart=True)
    except Exception:
        pass  # already gone, or Ray itself is shutting down
