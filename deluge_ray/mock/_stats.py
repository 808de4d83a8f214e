"""What the mock provider saw and sent: the ground truth that benchmarks compare against.

API keys are never stored: each is reduced to a short fingerprint (``key-1a2b3c4d``).

    >>> stats = MockStats(clock=lambda: 100.0)
    >>> stats.request_started("chat.completions", "m", "key-1")
    >>> stats.request_finished(200, input_tokens=5, output_tokens=7)
    >>> snap = stats.snapshot()
    >>> snap["requests"], snap["tokens_in"], snap["tokens_out"]
    (1, 5, 7)
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

__all__ = ["MockStats", "key_fingerprint"]

# Per-second request counts are kept for this many distinct seconds (an hour of activity).
_MAX_SECONDS = 3600


def key_fingerprint(api_key: str | None) -> str:
    """A short, non-reversible name for an API key (``"none"`` when absent)."""
    if not api_key:
        return "none"
    return "key-" + hashlib.sha256(api_key.encode()).hexdigest()[:8]


class MockStats:
    """Thread-safe counters; :meth:`snapshot` returns plain JSON-able data."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._requests = 0
            self._by_endpoint: Counter[str] = Counter()
            self._by_model: Counter[str] = Counter()
            self._by_key: Counter[str] = Counter()
            self._by_status: Counter[int] = Counter()
            self._faults: Counter[str] = Counter()
            self._per_second: Counter[int] = Counter()
            self._admitted_per_second: Counter[int] = Counter()
            self._tokens_in = 0
            self._tokens_out = 0
            self._in_flight = 0
            self._peak = 0

    def request_started(self, endpoint: str, model: str | None, key_id: str) -> None:
        """Count an arriving request and raise the in-flight gauge."""
        with self._lock:
            self._requests += 1
            self._by_endpoint[endpoint] += 1
            self._by_model[model or "-"] += 1
            self._by_key[key_id] += 1
            _count_second(self._per_second, int(self._clock()))
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)

    def request_finished(
        self, status: int, *, input_tokens: int = 0, output_tokens: int = 0
    ) -> None:
        """Record the status sent and the tokens served, and lower the in-flight gauge."""
        with self._lock:
            self._by_status[status] += 1
            self._tokens_in += input_tokens
            self._tokens_out += output_tokens
            self._in_flight = max(0, self._in_flight - 1)

    def request_admitted(self) -> None:
        """Count a request the rate limits let through, in the second it was admitted.

        Arrivals (``per_second``) include requests refused with 429, so only this count can
        be held against a limit: see ``Limits.max_admitted_in_one_second``.
        """
        with self._lock:
            _count_second(self._admitted_per_second, int(self._clock()))

    def fault_injected(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def snapshot(self) -> dict[str, Any]:
        """A copy of every counter, safe to serialise as JSON."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_endpoint": dict(self._by_endpoint),
                "by_model": dict(self._by_model),
                "by_key": dict(self._by_key),
                "by_status": {str(k): v for k, v in sorted(self._by_status.items())},
                "rate_limited": self._by_status.get(429, 0),
                "faults": dict(self._faults),
                "tokens_in": self._tokens_in,
                "tokens_out": self._tokens_out,
                "in_flight": self._in_flight,
                "peak_concurrency": self._peak,
                "per_second": {str(k): v for k, v in sorted(self._per_second.items())},
                "admitted_per_second": {
                    str(k): v for k, v in sorted(self._admitted_per_second.items())
                },
                "peak_admitted_in_one_second": max(self._admitted_per_second.values(), default=0),
            }


def _count_second(counts: Counter[int], second: int) -> None:
    counts[second] += 1
    if len(counts) > _MAX_SECONDS:
        del counts[min(counts)]
