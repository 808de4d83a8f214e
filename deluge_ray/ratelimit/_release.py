"""Telling the limiters that a caller died, so its concurrency slots come back at once.

Whoever owns caller actors (the driver's ProviderCaller pool, the SubAgent pool) sees one
die before any limiter can: it calls :func:`release_dead_caller` with the dead caller's id
and the limiters it leased from (the ``limiter`` of each route of the specs it was sent).
Without this, a limiter waits ``slot_reclaim_seconds`` (120 s) before presuming the caller
dead (see :mod:`deluge_ray.ratelimit._slots`).

>>> import asyncio
>>> from deluge_ray.ratelimit._service import LimiterService
>>> service = LimiterService(rpm=None, tpm=None, max_concurrent=2)
>>> _ = asyncio.run(service.lease("dead", 2))
>>> class Handle:  # what a RateLimiter actor handle looks like to this function
...     class release_caller:
...         remote = staticmethod(service.release_caller)
>>> asyncio.run(release_dead_caller("dead", [Handle()]))
2
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

__all__ = ["release_dead_caller"]


async def release_dead_caller(caller_id: str, limiters: Iterable[Any]) -> int:
    """Release ``caller_id`` at every limiter actor in ``limiters``; returns slots freed.

    A limiter that cannot answer (restarting, its node gone) is skipped: a restarted one
    knows no slots of the dead caller anyway. Errors never reach the caller of this.
    """
    unique = {id(limiter): limiter for limiter in limiters if limiter is not None}
    answers = await asyncio.gather(
        *(limiter.release_caller.remote(caller_id) for limiter in unique.values()),
        return_exceptions=True,
    )
    return sum(answer for answer in answers if isinstance(answer, int))
