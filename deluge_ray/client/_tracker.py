"""StatusTracker: the counters of one client's work, safe to read from any thread.

The engine thread records outcomes; the progress display (its own thread) and the user
read them. Counters cover what issue 4 asks to report: requests sent, successes,
failures, 429s, retries, cache hits, tokens in/out/cached and cost.

    >>> t = StatusTracker(max_requests_per_minute=60, max_tokens_per_minute=1000,
    ...                   max_concurrent_requests=4)
    >>> t.add_to_total(2)
    >>> t.record_result(succeeded=True, input_tokens=10, output_tokens=5, cost=0.01)
    >>> t.snapshot().completed, t.snapshot().total
    (1, 2)
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from ._pacing import Pace, pace_of

__all__ = ["StatusTracker", "TrackerSnapshot"]


@dataclass(frozen=True)
class TrackerSnapshot:
    """A consistent copy of every counter at one moment."""

    total: int
    succeeded: int
    failed: int
    in_flight: int
    requests_sent: int
    rate_limit_errors: int
    retries: int
    local_cache_hits: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost: float
    elapsed_s: float
    max_requests_per_minute: int
    max_tokens_per_minute: int
    max_concurrent_requests: int
    # Mean tokens each submitted request reserves (prompt + max_new_tokens); 0 before any.
    tokens_per_request: float = 0.0

    @property
    def completed(self) -> int:
        """Items finished either way (succeeded + failed)."""
        return self.succeeded + self.failed

    @property
    def pace(self) -> Pace | None:
        """Which limit binds for the requests submitted so far (``None`` before any)."""
        if self.tokens_per_request <= 0:
            return None
        return pace_of(
            self.max_requests_per_minute, self.max_tokens_per_minute, self.tokens_per_request
        )

    def binding_limit(self) -> str:
        """``"tokens bind: ~190 of 1,000 rpm (...)"``, ``"requests bind: ..."`` or ``""``."""
        pace = self.pace
        if pace is None:
            return ""
        return pace.describe(self.max_requests_per_minute, self.max_tokens_per_minute)


@dataclass
class StatusTracker:
    """Thread-safe counters for one client; see the module docstring."""

    max_requests_per_minute: int
    max_tokens_per_minute: int
    max_concurrent_requests: int
    client_name: str = "LLMClient"
    _total: int = 0
    _succeeded: int = 0
    _failed: int = 0
    _in_flight: int = 0
    _requests_sent: int = 0
    _rate_limit_errors: int = 0
    _retries: int = 0
    _local_cache_hits: int = 0
    _input_tokens: int = 0
    _output_tokens: int = 0
    _cache_read_tokens: int = 0
    _cache_write_tokens: int = 0
    _cost: float = 0.0
    _estimated_requests: int = 0
    _estimated_tokens: int = 0
    _started_at: float = field(default_factory=time.monotonic)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add_to_total(self, n: int = 1) -> None:
        """Announce ``n`` more items that will each end in a result."""
        with self._lock:
            self._total += n

    def set_in_flight(self, n: int) -> None:
        """How many items are currently with the callers (for the display)."""
        with self._lock:
            self._in_flight = n

    def set_limits(self, rpm: int, tpm: int, max_concurrent: int) -> None:
        """Reflect new client limits (``with_limits``) in the display."""
        with self._lock:
            self.max_requests_per_minute = rpm
            self.max_tokens_per_minute = tpm
            self.max_concurrent_requests = max_concurrent

    def record_estimates(self, estimates: list[int]) -> None:
        """Note the tokens submitted requests reserve, to tell which limit binds."""
        with self._lock:
            self._estimated_requests += len(estimates)
            self._estimated_tokens += sum(estimates)

    def record_attempts(self, requests_sent: int, rate_limited: int, retries: int) -> None:
        """Add the HTTP-level figures a caller reported for one item."""
        with self._lock:
            self._requests_sent += requests_sent
            self._rate_limit_errors += rate_limited
            self._retries += retries

    def record_result(
        self,
        *,
        succeeded: bool,
        local_cache_hit: bool = False,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
        cost: float | None = None,
    ) -> None:
        """Count one finished item and its usage (a local cache hit costs nothing)."""
        with self._lock:
            if succeeded:
                self._succeeded += 1
            else:
                self._failed += 1
            if local_cache_hit:
                self._local_cache_hits += 1
                return
            self._input_tokens += input_tokens
            self._output_tokens += output_tokens
            self._cache_read_tokens += cache_read_tokens
            self._cache_write_tokens += cache_write_tokens
            self._cost += cost or 0.0

    def snapshot(self) -> TrackerSnapshot:
        """Every counter, read under one lock so the figures agree with each other."""
        with self._lock:
            return TrackerSnapshot(
                total=self._total,
                succeeded=self._succeeded,
                failed=self._failed,
                in_flight=self._in_flight,
                requests_sent=self._requests_sent,
                rate_limit_errors=self._rate_limit_errors,
                retries=self._retries,
                local_cache_hits=self._local_cache_hits,
                input_tokens=self._input_tokens,
                output_tokens=self._output_tokens,
                cache_read_tokens=self._cache_read_tokens,
                cache_write_tokens=self._cache_write_tokens,
                cost=self._cost,
                elapsed_s=time.monotonic() - self._started_at,
                max_requests_per_minute=self.max_requests_per_minute,
                max_tokens_per_minute=self.max_tokens_per_minute,
                max_concurrent_requests=self.max_concurrent_requests,
                tokens_per_request=(
                    self._estimated_tokens / self._estimated_requests
                    if self._estimated_requests
                    else 0.0
                ),
            )

    def final_summary(self) -> str:
        """The totals printed by ``LLMClient.close()``."""
        s = self.snapshot()
        lines = [
            f"{self.client_name}: {s.succeeded} succeeded, {s.failed} failed "
            f"of {s.total} in {s.elapsed_s:.1f}s",
            f"  requests sent: {s.requests_sent}, rate-limited (429): "
            f"{s.rate_limit_errors}, retries: {s.retries}, local cache hits: "
            f"{s.local_cache_hits}",
            f"  tokens: {s.input_tokens:,} in, {s.output_tokens:,} out, "
            f"{s.cache_read_tokens:,} cache read, {s.cache_write_tokens:,} cache write; "
            f"cost ${s.cost:.4f}",
        ]
        if s.pace is not None and s.pace.binding == "tokens":
            lines.append(f"  pace: {s.binding_limit()}")
        return "\n".join(lines)
