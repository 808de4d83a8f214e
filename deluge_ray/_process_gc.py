"""Garbage-collector settings for deluge_ray's server processes: its actors and the mock.

A ProviderCaller's or a SubAgent's process is one asyncio program with hundreds or
thousands of requests or agent loops in flight (the RateLimiter's serves their lease
calls); the mock provider's process (``deluge-ray mock-server``) answers as many. Under
CPython's default thresholds ``(700, 10, 10)`` a young-generation pass starts after every
700 net new container objects, so the objects of every request in flight are walked again
and again, and every tenth pass walks the middle generation, where those requests' objects
have meanwhile been promoted. Measured during 1,000 agent loops at 200 ms latency (4,000
model calls, 2,000 of them in each of two SubAgents):

* in one SubAgent, about 170 passes and 0.14 s of CPU, some 70 us per model call, a sixth
  of the actor's CPU; the oldest-generation passes, which walk everything Ray and
  deluge_ray imported, took about 50 ms each;
* in the mock's process, 315-382 passes and 0.18-0.20 s of its 0.93 s of CPU.

:func:`tune_server_gc` changes two things, once per process, when the server starts:

* ``gc.freeze()``: everything alive at that moment (modules, Ray's own state) moves to the
  permanent generation, which no later pass walks;
* the young-generation threshold becomes :data:`YOUNG_THRESHOLD` (20,000): a pass runs
  about 30 times less often, and most of a request's objects are freed by reference
  counting before one runs. Cyclic garbage waits longer to be freed: at most that many
  container objects, a few MB.

With both, the same SubAgent spent about 0.02 s in the collector per swarm, and the mock
0.04-0.08 s. Only processes that are the server's alone are changed (those Ray starts for
the actors, the mock's command-line process), never a user's driver or a test process
that hosts a mock in a thread. ``DELUGE_RAY_SERVER_GC=python`` in their environment keeps
Python's defaults.
"""

from __future__ import annotations

import gc
import os

__all__ = ["SERVER_GC_ENV", "YOUNG_THRESHOLD", "tune_server_gc"]

#: Set to ``python`` to keep CPython's default collector settings in server processes.
SERVER_GC_ENV = "DELUGE_RAY_SERVER_GC"
#: Net new container objects between two young-generation passes (CPython's default: 700).
YOUNG_THRESHOLD = 20_000

_tuned = False


def tune_server_gc() -> bool:
    """Apply this module's settings to the current process; ``True`` if they were applied.

    Idempotent: later calls (a second actor class in the same process) change nothing. The
    middle and old generation thresholds keep Python's values, counted in the rarer
    young-generation passes.
    """
    global _tuned
    if _tuned:
        return True
    if os.environ.get(SERVER_GC_ENV, "").strip().lower() == "python":
        return False
    _, middle, old = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)
    _tuned = True
    return True
