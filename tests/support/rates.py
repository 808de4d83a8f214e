"""Counting sends in time windows, for limiter tests in virtual time."""

from __future__ import annotations


def max_in_any_second(times: list[float]) -> int:
    """The most of ``times`` (seconds) that fall in any window ``[t, t + 1)``."""
    times = sorted(times)
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + 1.0:
            j += 1
        best = max(best, j - i)
    return best
