"""Garbage-collector settings for the processes deluge_ray's actors live in.

A ProviderCaller's or a SubAgent's process is one asyncio program with hundreds or
thousands of requests or agent loops in flight (the RateLimiter's serves their lease calls). Under
CPython's default thresholds ``(700, 10, 10)`` a young-generation pass starts after every
700 net new container objects, so the objects of every request in flight are walked again
and again, and every tenth pass walks the middle generation, where those requests' objects
have meanwhile been promoted. Measured in one SubAgent during 1,000 agent loops at 200 ms
latency (2,000 model calls in that actor): about 170 passes and 0.14 s of CPU, some 70 us
per model call, a sixth of the actor's CPU; the oldest-generation passes, which walk
everything Ray and deluge_ray imported, took about 50 ms each.

:func:`tune_actor_gc` changes two things, once per process, when the actor starts:

* ``gc.freeze()``: everything alive at that moment (modules, Ray's own state) moves to the
  permanent generation, which no later pass walks;
* the young-generation threshold becomes :data:`YOUNG_THRESHOLD` (20,000): a pass runs
  about 30 times less often, and most of a request's objects are freed by reference
  counting before one runs. Cyclic garbage waits longer to be freed: at most that many
  container objects, a few MB.

With both, the same SubAgent spent about 0.02 s in the collector per 1,000-loop swarm.
Only processes Ray starts for these actors are changed, never a user's driver.
``DELUGE_RAY_ACTOR_GC=python`` in the actors' environment keeps Python's defaults.
"""

from __future__ import annotations

import gc
import os

__all__ = ["ACTOR_GC_ENV", "YOUNG_THRESHOLD", "tune_actor_gc"]

#: Set to ``python`` to keep CPython's default collector settings in actor processes.
ACTOR_GC_ENV = "DELUGE_RAY_ACTOR_GC"
#: Net new container objects between two young-generation passes (CPython's default: 700).
YOUNG_THRESHOLD = 20_000

_tuned = False


def tune_actor_gc() -> bool:
    """Apply this module's settings to the current process; ``True`` if they were applied.

    Idempotent: later calls (a second actor class in the same process) change nothing. The
    middle and old generation thresholds keep Python's values, counted in the rarer
    young-generation passes.
    """
    global _tuned
    if _tuned:
        return True
    if os.environ.get(ACTOR_GC_ENV, "").strip().lower() == "python":
        return False
    _, middle, old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    _tuned = True
    return True
