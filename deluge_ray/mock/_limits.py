"""Provider-style rate-limit enforcement, as pure logic of an injected clock.

Providers publish per-minute limits but enforce them over short windows: a 600 RPM tier
admits about 10 requests in any one second, so a client that fires a whole minute's quota
at once sees most of it refused. We model each per-minute limit as a token bucket that
refills continuously at ``limit / 60`` per second and holds at most ``burst_seconds`` of
rate (never less than one request). A request is admitted only when every bucket that
applies (requests, tokens, input tokens, output tokens) and the concurrency cap allow it;
otherwise nothing is charged and the caller is told how long to wait.

A request costing more tokens than a bucket can ever hold is admitted when that bucket is
full and drives it negative, as providers do, so a large prompt is slow but never stuck.

    >>> t = [0.0]
    >>> windows = RateWindows(clock=lambda: t[0])
    >>> lim = Limits(rpm=60)
    >>> windows.admit("k", "m", lim, 10, 5).allowed, windows.admit("k", "m", lim, 10, 5).allowed
    (True, False)
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ._config import Limits

__all__ = ["Decision", "LimitReading", "RateWindows", "TokenBucket"]

# When a request is refused for concurrency no refill time exists; this is the hint we send.
CONCURRENCY_RETRY_SECONDS = 0.5


class TokenBucket:
    """A bucket refilling at ``per_minute / 60`` per second, capped at ``burst_seconds`` of rate."""

    __slots__ = ("capacity", "level", "rate", "updated")

    def __init__(self, per_minute: float, burst_seconds: float, now: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, self.rate * burst_seconds)
        self.level = self.capacity
        self.updated = now

    def refill(self, now: float) -> None:
        """Add what accrued since the last look (time never runs backwards here)."""
        if now > self.updated:
            self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
            self.updated = now

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` can be taken (0 when it can be taken now)."""
        need = min(cost, self.capacity)
        if self.level >= need - 1e-9:
            return 0.0
        return (need - self.level) / self.rate

    def take(self, cost: float) -> None:
        self.level -= cost

    def seconds_to_full(self) -> float:
        return max(0.0, (self.capacity - self.level) / self.rate)


@dataclass
class _State:
    buckets: dict[str, TokenBucket] = field(default_factory=dict)
    # The per-minute quota as the providers report it in ``remaining`` headers: a bucket of
    # a whole minute's capacity refilled continuously (their documented token-bucket
    # model), so a client pacing at the limit keeps it nearly full, and only bursts or
    # other users of the same key drain it.
    quota: dict[str, TokenBucket] = field(default_factory=dict)
    in_flight: int = 0
    limits: Limits | None = None


@dataclass(frozen=True)
class LimitReading:
    """One limit as reported in response headers: per-minute limit, remaining, reset seconds."""

    limit: float
    remaining: float
    reset_seconds: float


@dataclass(frozen=True)
class Decision:
    """The outcome of :meth:`RateWindows.admit`.

    ``reason`` names the exhausted limit (``"requests"``, ``"tokens"``, ``"input_tokens"``,
    ``"output_tokens"`` or ``"concurrency"``) when refused. ``readings`` holds the
    header figures for every configured limit (key = the same names).
    """

    allowed: bool
    retry_after: float = 0.0
    reason: str | None = None
    readings: dict[str, LimitReading] = field(default_factory=dict)


_ALWAYS = Decision(allowed=True)


class RateWindows:
    """Rate-limit state for every (API key, model) pair. Thread-safe; time from ``clock``."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._states: dict[tuple[str, str], _State] = {}

    def _state(self, key: str, model: str, limits: Limits, now: float) -> _State:
        state = self._states.get((key, model))
        if state is None or state.limits != limits:
            # New pair, or limits changed at run time: start with full buckets.
            fresh = _State(limits=limits, in_flight=state.in_flight if state else 0)
            for name, per_minute in _per_minute(limits).items():
                fresh.buckets[name] = TokenBucket(per_minute, limits.burst_seconds, now)
                fresh.quota[name] = TokenBucket(per_minute, 60.0, now)
            self._states[(key, model)] = fresh
            state = fresh
        return state

    def admit(
        self, key: str, model: str, limits: Limits, input_tokens: int, output_tokens: int
    ) -> Decision:
        """Admit one request (charging every bucket and taking a concurrency slot) or refuse it.

        An admitted request must be paired with :meth:`release` when its response ends.
        """
        if limits.unlimited:
            return _ALWAYS
        costs = {
            "requests": 1.0,
            "tokens": float(input_tokens + output_tokens),
            "input_tokens": float(input_tokens),
            "output_tokens": float(output_tokens),
        }
        with self._lock:
            now = self._clock()
            state = self._state(key, model, limits, now)
            if limits.max_concurrent is not None and state.in_flight >= limits.max_concurrent:
                return Decision(False, CONCURRENCY_RETRY_SECONDS, "concurrency")
            worst, reason = 0.0, None
            for name, bucket in state.buckets.items():
                bucket.refill(now)
                wait = bucket.wait_for(costs[name])
                if wait > worst:
                    worst, reason = wait, name
            if reason is not None:
                return Decision(False, worst, reason, self._readings(state, now))
            for name, bucket in state.buckets.items():
                bucket.take(costs[name])
                quota = state.quota[name]
                quota.refill(now)
                quota.take(costs[name])
            state.in_flight += 1
            return Decision(True, 0.0, None, self._readings(state, now))

    def release(self, key: str, model: str) -> None:
        """Give back the concurrency slot of an admitted request."""
        with self._lock:
            state = self._states.get((key, model))
            if state is not None and state.in_flight > 0:
                state.in_flight -= 1

    def reset(self) -> None:
        """Forget all state (buckets refill to full)."""
        with self._lock:
            self._states.clear()

    @staticmethod
    def _readings(state: _State, now: float) -> dict[str, LimitReading]:
        readings = {}
        for name, per_minute in _per_minute(state.limits or Limits()).items():
            quota = state.quota[name]
            quota.refill(now)
            remaining = max(0.0, quota.level)
            readings[name] = LimitReading(
                per_minute, math.floor(remaining), quota.seconds_to_full()
            )
        return readings


def _per_minute(limits: Limits) -> dict[str, float]:
    figures = {
        "requests": limits.rpm,
        "tokens": limits.tpm,
        "input_tokens": limits.input_tpm,
        "output_tokens": limits.output_tpm,
    }
    return {name: value for name, value in figures.items() if value is not None}
