"""What a limiter and its callers exchange: a :class:`Lease` out, a :class:`UsageReport` back.

Both cross process boundaries (they are pickled into and out of the ``RateLimiter``
actor), so they hold plain numbers only. The rules that produce them are in
:mod:`deluge_ray.ratelimit._core`.

>>> Lease(requests=3, ends_in=0.3).granted, Lease(retry_in=0.5).granted
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._headers import RateLimitObservation

__all__ = ["Lease", "UsageReport"]


@dataclass(frozen=True)
class Lease:
    """Capacity granted to one caller, or a refusal (``requests == 0``) with ``retry_in``.

    ``starts_in``/``ends_in`` are seconds after the grant: spread the ``requests`` sends
    evenly over that slice. ``tokens`` is the token budget (``requests * tokens_per_request``);
    ``slots`` new concurrency slots come with the requests (fewer than ``requests`` when the
    caller reported spare ones to reuse) and go back as ``released_slots``. ``slot_cap`` is
    the most slots the caller should keep spare between requests (``None``: no cap).
    ``incarnation`` names the limiter instance that granted it (empty: unknown); a lease of
    a new incarnation tells the caller the limiter restarted.
    """

    requests: int = 0
    tokens: int = 0
    slots: int = 0
    starts_in: float = 0.0
    ends_in: float = 0.0
    retry_in: float = 0.0
    slot_cap: int | None = None
    incarnation: str = ""

    @property
    def granted(self) -> bool:
        """True when the lease carries at least one request."""
        return self.requests > 0


@dataclass
class UsageReport:
    """What a caller tells the limiter about what happened since its last lease.

    ``token_correction`` is actual minus estimated token usage (positive means debt).
    ``rate_limited`` counts 429s seen; ``retry_after`` is the longest remaining wait they
    asked for, in seconds from when the report is sent. ``observation`` is the newest
    rate-limit header reading. ``spare_slots`` is not an event but a snapshot: slots the
    caller holds with no request on them, which the lease asked for alongside may reuse.
    ``incarnation`` is the limiter instance whose leases the report is about (empty:
    unknown); a restarted limiter ignores what is given back to an earlier one.
    """

    returned_requests: int = 0
    returned_tokens: int = 0
    released_slots: int = 0
    token_correction: int = 0
    rate_limited: int = 0
    retry_after: float | None = None
    observation: RateLimitObservation | None = None
    completed: int = 0
    spare_slots: int = 0
    incarnation: str = ""

    def is_empty(self) -> bool:
        """True when the report carries nothing the limiter would act on."""
        return not (
            self.returned_requests
            or self.returned_tokens
            or self.released_slots
            or self.token_correction
            or self.rate_limited
            or self.observation is not None
            or self.completed
        )
