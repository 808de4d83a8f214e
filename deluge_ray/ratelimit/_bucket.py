"""One continuously refilling bucket of requests or tokens (the limiter's arithmetic).

The refill rule and why the cap is small are in :mod:`deluge_ray.ratelimit._core`.

>>> bucket = Bucket(per_minute=600, bucket_seconds=0.25, now=0.0)
>>> bucket.refill(1.0); bucket.level          # capped at a quarter second of rate
2.5
"""

from __future__ import annotations

import math

__all__ = ["Bucket"]


class Bucket:
    """One continuously refilling bucket; ``per_minute=None`` means unlimited."""

    def __init__(self, per_minute: float | None, bucket_seconds: float, now: float) -> None:
        self.per_minute = per_minute
        self.bucket_seconds = bucket_seconds
        self.level = 0.0
        self.updated = now

    @property
    def limited(self) -> bool:
        return self.per_minute is not None

    @property
    def rate(self) -> float:
        return (self.per_minute or 0.0) / 60.0

    @property
    def cap(self) -> float:
        return self.rate * self.bucket_seconds

    def refill(self, now: float) -> None:
        if self.limited and now > self.updated:
            self.level = min(self.cap, self.level + self.rate * (now - self.updated))
        self.updated = max(self.updated, now)

    def set_per_minute(self, per_minute: float | None, now: float) -> None:
        self.refill(now)  # earn credit at the old rate up to now before switching
        self.per_minute = per_minute
        self.level = min(self.level, self.cap) if self.limited else 0.0

    def credit(self, amount: float) -> None:
        if self.limited:
            self.level = min(self.cap, self.level + amount)

    def available(self, unit: float, horizon: float) -> float:
        """How many ``unit``-sized items may be granted, reserving up to ``horizon`` ahead."""
        if not self.limited or unit <= 0:
            return math.inf
        room = self.level + self.rate * horizon
        return math.floor(room / unit) + 1 if room >= 0 else 0

    def wait_for(self, items: int, unit: float, horizon: float) -> float:
        """Seconds until ``available(unit, horizon) >= items``."""
        if not self.limited or unit <= 0 or self.rate <= 0:
            return 0.0
        short = (items - 1) * unit - (self.level + self.rate * horizon)
        return max(0.0, short / self.rate)
