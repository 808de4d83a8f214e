"""How big the stage's actor pool may grow: from the rate limit and the expected latency.

By Little's law a provider allowing ``rpm`` requests a minute, answering in ``latency_s``
seconds, keeps ``rpm / 60 * latency_s`` requests in flight at full rate. One actor holds
``batch_size`` rows of each of the few batches Ray Data gives it at once, so that many rows
need that many actors; a second bound keeps any one actor's event loop under the request
rate one process can drive. The pool starts at one actor and Ray Data's autoscaler grows
it up to the bound while work queues up, so an overestimate costs nothing until it is used.

    >>> actor_pool_bounds(rpm=3_000, max_concurrent=225, latency_s=2.0, batch_size=64)
    (1, 1)
    >>> actor_pool_bounds(rpm=600_000, max_concurrent=10_000, latency_s=2.0, batch_size=64)
    (1, 40)
"""

from __future__ import annotations

import math

__all__ = ["ASYNC_BATCHES_PER_ACTOR", "MAX_ACTORS", "REQUESTS_PER_S_PER_ACTOR", "actor_pool_bounds"]

#: Batches Ray Data runs at once in one async actor (its default for async batch UDFs).
ASYNC_BATCHES_PER_ACTOR = 4
#: Requests per second one actor process sends comfortably (parse, lease, settle in Python).
REQUESTS_PER_S_PER_ACTOR = 500.0
#: Never more actors than this by default: beyond it the limiter, not the pool, is the bound.
MAX_ACTORS = 64
#: Headroom over Little's law, for latency spread and retries in flight.
_HEADROOM = 1.5


def actor_pool_bounds(
    *, rpm: int, max_concurrent: int, latency_s: float, batch_size: int
) -> tuple[int, int]:
    """``(min_size, max_size)`` of the autoscaling actor pool."""
    in_flight = min(max_concurrent, math.ceil(rpm / 60.0 * latency_s * _HEADROOM))
    by_concurrency = math.ceil(in_flight / (batch_size * ASYNC_BATCHES_PER_ACTOR))
    by_cpu = math.ceil(rpm / 60.0 / REQUESTS_PER_S_PER_ACTOR)
    return 1, max(1, min(MAX_ACTORS, max(by_concurrency, by_cpu)))
