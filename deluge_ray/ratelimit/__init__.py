"""Rate limiting: how much may be sent, when, and by whom.

- ``_core``: :class:`LimiterCore`, the pure limiter (continuously refilled request and token
  buckets, concurrency slots, the cooldown after a 429, releasing a dead caller, starting
  safely after a restart), with an injected clock. The waiting and restart rules are in its
  docstring. ``_bucket`` holds one bucket's arithmetic; ``_slots`` the concurrency slots and
  their sharing rule; ``_records`` the :class:`Lease` and :class:`UsageReport` exchanged
  with callers.
- ``_priority``: :class:`~deluge_ray.ratelimit._priority.Tenant` (the client behind a lease,
  its priority and weight) and the rule sharing one key among clients: classes first, by
  weight within a class, a floor for lower classes, and the credit that lets a higher
  class jump the queue.
- ``_budget``: :class:`~deluge_ray.ratelimit._budget.SpendLedger`, dollar budgets reserved at
  worst-case cost and settled with the actual one; a key's spend is kept in SQLite.
- ``_service``: :class:`LimiterService`, the plain class the ``RateLimiter`` actor
  (``actors/rate_limiter.py``, only the Ray shell) runs.
- ``_lease_client``: :class:`LeaseClient`, the caller side: leases capacity in blocks, spreads
  the sends of a lease over its slice, carries usage reports on the next lease, retries
  while the limiter restarts and drops what a lost limiter instance granted; ``_held_lease``
  is one lease on the caller's clock (its schedule, the catch-up rule, what goes back);
  ``_limiter_link`` is how it reaches a limiter (an actor handle, or anything with ``lease``).
- ``_release``: :func:`release_dead_caller`, how the owner of a dead caller actor frees its
  slots at every limiter at once.
- ``_headers``: reading providers' rate-limit headers (``x-ratelimit-*``,
  ``anthropic-ratelimit-*``).
- ``_pacer``: :class:`Pacer`, for the few driver-side calls (embeddings, rerank) that do not
  go through the shared limiter.
"""

from __future__ import annotations

from ._core import Lease, LimiterCore, UsageReport
from ._headers import read_rate_limit_headers
from ._lease_client import LeaseClient
from ._pacer import Pacer
from ._service import LimiterService

__all__ = [
    "Lease",
    "LeaseClient",
    "LimiterCore",
    "LimiterService",
    "Pacer",
    "UsageReport",
    "read_rate_limit_headers",
]
