"""Which of a client's own limits paces its requests, and the warning when one cannot be met.

Every request reserves its prompt tokens plus ``max_new_tokens`` from the token budget
before it is sent, so the rate a client can reach is the smaller of
``max_requests_per_minute`` and ``max_tokens_per_minute / tokens per request``. With the
defaults (100,000 tokens/minute, 512 new tokens) that is under 200 requests a minute
whatever ``max_requests_per_minute`` says, which surprises users who raised the request
limit and see no change. The progress display names the limit that binds, and the client
warns once, when it is created, if its request limit is out of reach by more than
:data:`WARN_BELOW` (lm-deluge's own defaults, 1,000 requests and 500,000 tokens a minute
with 512 new tokens, reach ~977 requests a minute: close enough to say nothing).

    >>> pace = pace_of(rpm=1_000, tpm=100_000, tokens_per_request=527)
    >>> pace.binding, round(pace.requests_per_minute)
    ('tokens', 190)
    >>> pace_of(rpm=100, tpm=100_000, tokens_per_request=527).binding
    'requests'
"""

from __future__ import annotations

import math
import threading
import warnings
from dataclasses import dataclass
from typing import Literal

__all__ = ["Pace", "UnreachableRateWarning", "pace_of", "warn_if_rate_unreachable"]


class UnreachableRateWarning(UserWarning):
    """A client's token limit keeps it below its own request limit."""


@dataclass(frozen=True)
class Pace:
    """The limit that binds and the request rate it allows."""

    binding: Literal["requests", "tokens"]
    requests_per_minute: float
    tokens_per_request: float

    def describe(self, rpm: int, tpm: int) -> str:
        """A short phrase for a status line, e.g. ``tokens bind: ~190 of 1,000 rpm``."""
        if self.binding == "requests":
            return f"requests bind: {rpm:,} rpm"
        return (
            f"tokens bind: ~{self.requests_per_minute:,.0f} of {rpm:,} rpm "
            f"({tpm:,} tpm / ~{self.tokens_per_request:,.0f} tok per request)"
        )


def pace_of(rpm: int, tpm: int, tokens_per_request: float) -> Pace:
    """The binding limit for requests that each reserve ``tokens_per_request`` tokens."""
    by_tokens = tpm / tokens_per_request if tokens_per_request > 0 else math.inf
    if by_tokens < rpm:
        return Pace("tokens", by_tokens, tokens_per_request)
    return Pace("requests", float(rpm), tokens_per_request)


#: Warn only when the token limit allows less than this fraction of the request limit.
WARN_BELOW = 0.9

_warned: set[tuple[int, int, int]] = set()
_warned_lock = threading.Lock()


def warn_if_rate_unreachable(rpm: int, tpm: int, max_new_tokens: int) -> bool:
    """Warn (once per combination of the three, per process) when ``tpm`` cannot reach
    ``rpm`` even with empty prompts; returns whether a warning was issued now."""
    pace = pace_of(rpm, tpm, max_new_tokens)
    if pace.requests_per_minute >= WARN_BELOW * rpm:
        return False
    with _warned_lock:
        if (rpm, tpm, max_new_tokens) in _warned:
            return False
        _warned.add((rpm, tpm, max_new_tokens))
    needed = rpm * max_new_tokens
    warnings.warn(
        f"max_tokens_per_minute={tpm:,} allows at most ~{pace.requests_per_minute:,.0f} "
        f"requests/minute (each request reserves its prompt plus max_new_tokens="
        f"{max_new_tokens:,}), so max_requests_per_minute={rpm:,} cannot be reached. To reach "
        f"it, raise max_tokens_per_minute to at least {needed:,} plus the prompts' tokens, or "
        "lower max_new_tokens.",
        UnreachableRateWarning,
        stacklevel=3,
    )
    return True
