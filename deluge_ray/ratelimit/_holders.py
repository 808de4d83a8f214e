"""Finding slot holders that died without saying so, so their slots come back at once.

A concurrency slot is held by a *caller* (a ``LeaseClient``, named by its caller id) that
lives in some Ray process: a ProviderCaller, SubAgent or Ray Data stage actor, or a driver.
When that process is killed (a driver SIGKILLed mid-batch takes its callers with it; a Ray
Data stage actor is killed at the job's end), nobody tells the limiter, and its
``slot_reclaim_seconds`` rule (120 s, in :mod:`deluge_ray.ratelimit._core`) would keep
the slots taken, slowing the next job on the key. So the limiter looks for itself.

The rule
--------
* Each caller names its *holder* once per limiter instance (:func:`announce_holder`, after
  its first lease): ``actor:<actor id>`` inside a Ray actor, ``job:<job id>`` on a driver.
* Every ``check_seconds`` the limiter picks the *suspects*: callers that hold at least one
  slot, whose holder is known, and that made no call for ``quiet_seconds``. A live
  caller with requests in flight usually reports well within that, so a suspect is
  mostly a dead one, and probing a live one costs only one look-up::

      suspect(c) = slots_held(c) > 0  and  holder(c) known  and  now - last_call(c) >= quiet

* The probe (given the distinct holders of the suspects; it may block, so the limiter runs
  it on a thread, never on its event loop) returns the holders that are certainly dead:
  an actor whose state is ``DEAD``, a job marked dead. Every caller of a dead holder is
  released at once (``LimiterCore.release_caller``): its slots return to everyone.
* A holder the probe cannot judge (unknown, or the look-up failed) counts as alive, and
  the 120 s rule still applies to it: the probe may only make reclaiming faster.
* A caller silent for ``forget_seconds`` (15 minutes) is dropped from the book (a caller
  that closed normally never says so here), so a long-lived limiter's book stays small.

>>> t = [0.0]
>>> book = HolderBook(clock=lambda: t[0], quiet_seconds=2.0)
>>> book.note_holder("caller-0", "actor:aa"); book.seen("caller-0")
>>> book.suspects({"caller-0": 3})
{}
>>> t[0] = 2.5
>>> book.suspects({"caller-0": 3})
{'actor:aa': ['caller-0']}
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["HolderBook", "announce_holder", "ray_dead_holders", "this_holder"]

# Seconds a slot-holding caller must be silent before its holder is looked up, and how
# often the limiter looks. A look-up is one GCS call per holder, off the limiter's loop.
QUIET_SECONDS = 2.0
CHECK_SECONDS = 1.0
FORGET_SECONDS = 900.0


class HolderBook:
    """Which process holds each caller's slots, and when each caller last called."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        quiet_seconds: float = QUIET_SECONDS,
        forget_seconds: float = FORGET_SECONDS,
    ) -> None:
        self._clock = clock
        self.quiet_seconds = quiet_seconds
        self.forget_seconds = forget_seconds
        self._holder: dict[str, str] = {}  # caller id -> "actor:<hex>" or "job:<hex>"
        self._last_call: dict[str, float] = {}

    def note_holder(self, caller_id: str, holder: str) -> None:
        """``caller_id`` runs in ``holder`` (see :func:`this_holder`)."""
        self._holder[caller_id] = holder
        self._last_call.setdefault(caller_id, self._clock())

    def seen(self, caller_id: str) -> None:
        """``caller_id`` just called the limiter (it is alive now)."""
        if caller_id in self._holder:
            self._last_call[caller_id] = self._clock()

    def forget(self, caller_id: str) -> None:
        """Stop tracking ``caller_id`` (released, or dead and reclaimed)."""
        self._holder.pop(caller_id, None)
        self._last_call.pop(caller_id, None)

    def suspects(self, slots_held: dict[str, int]) -> dict[str, list[str]]:
        """Holders to look up: each with its quiet, slot-holding caller ids (the rule above)."""
        now = self._clock()
        found: dict[str, list[str]] = {}
        for caller_id, holder in list(self._holder.items()):
            silent = now - self._last_call.get(caller_id, now)
            if silent >= self.forget_seconds:
                self.forget(caller_id)
            elif silent >= self.quiet_seconds and slots_held.get(caller_id, 0) > 0:
                found.setdefault(holder, []).append(caller_id)
        return found

    def __len__(self) -> int:
        return len(self._holder)


def this_holder() -> str:
    """The holder id of the calling process: its Ray actor id, else its Ray job id."""
    import ray

    context = ray.get_runtime_context()
    actor_id = context.get_actor_id()
    return f"actor:{actor_id}" if actor_id else f"job:{context.get_job_id()}"


def announce_holder(handle: Any, caller_id: str) -> None:
    """Tell a ``RateLimiter`` actor which process ``caller_id`` lives in (no reply awaited).

    Best effort: a limiter that cannot take it (an older one, a Ray without a runtime
    context) keeps only the ``slot_reclaim_seconds`` rule for this caller.
    """
    with contextlib.suppress(Exception):
        handle.note_holder.remote(caller_id, this_holder())


def ray_dead_holders(holders: Iterable[str]) -> set[str]:
    """Of ``holders``, those Ray's GCS knows to be dead. Blocks: call it from a thread.

    Uses the GCS tables directly (no dashboard needed, which the machine-wide head does
    not run); a holder it cannot find or read counts as alive.
    """
    from ray._private import state

    dead: set[str] = set()
    jobs: dict[str, bool] | None = None
    for holder in holders:
        kind, _, ident = holder.partition(":")
        with contextlib.suppress(Exception):
            if kind == "actor":
                if state.actors(actor_id=ident).get("State") == "DEAD":
                    dead.add(holder)
            elif kind == "job":
                if jobs is None:
                    jobs = {j["JobID"]: bool(j["IsDead"]) for j in state.state.job_table()}
                if jobs.get(ident):
                    dead.add(holder)
    return dead
