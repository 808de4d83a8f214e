"""Rate limiting: how much may be sent, when, and by whom.

- ``_core``: :class:`LimiterCore`, the pure limiter (continuously refilled request and token
  buckets, concurrency slots, the cooldown after a 429), with an injected clock. The waiting
  formula is in its docstring. The ``RateLimiter`` actor (``deluge_ray.actors.rate_limiter``)
  is a thin shell around it.
- ``_lease_client``: :class:`LeaseClient`, the caller side: leases capacity in blocks, spreads
  the sends of a lease over its slice, and carries usage reports on the next lease.
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

__all__ = ["Lease", "LeaseClient", "LimiterCore", "Pacer", "UsageReport", "read_rate_limit_headers"]
