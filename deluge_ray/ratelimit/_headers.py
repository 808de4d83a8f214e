"""Read the rate-limit headers providers attach to their responses.

OpenAI sends ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``, with resets written
as Go-style durations (``"1s"``, ``"6m0s"``, ``"20ms"``, ``"1h2m3.5s"``). Anthropic sends
``anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}``
with resets as RFC 3339 timestamps. Both may send ``retry-after`` (seconds or an HTTP date)
and ``retry-after-ms``. Everything is folded into one :class:`RateLimitObservation` whose
resets are *seconds from now*, so the limiter never has to compare wall clocks.

>>> obs = read_rate_limit_headers({"X-RateLimit-Remaining-Requests": "59", "x-ratelimit-reset-requests": "1s"})
>>> (obs.remaining_requests, obs.reset_requests)
(59, 1.0)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime, timezone

from ..transport._retry import retry_after

__all__ = ["RateLimitObservation", "parse_duration", "read_rate_limit_headers"]


@dataclass(frozen=True)
class RateLimitObservation:
    """What one response said about the provider's quota; ``None`` where it said nothing.

    Limits and remaining counts are per the provider's window (per minute for the request
    and token limits both providers publish). Resets and ``retry_after`` are seconds from
    the moment the headers were read.
    """

    limit_requests: int | None = None
    remaining_requests: int | None = None
    reset_requests: float | None = None
    limit_tokens: int | None = None
    remaining_tokens: int | None = None
    reset_tokens: float | None = None
    limit_input_tokens: int | None = None
    remaining_input_tokens: int | None = None
    reset_input_tokens: float | None = None
    limit_output_tokens: int | None = None
    remaining_output_tokens: int | None = None
    reset_output_tokens: float | None = None
    retry_after: float | None = None

    def is_empty(self) -> bool:
        """True when no rate-limit header was present."""
        return self is _EMPTY or all(getattr(self, f.name) is None for f in fields(self))


# What a response without any rate-limit header says (most answers of an unlimited server).
_EMPTY = RateLimitObservation()

# The names the two families and retry-after start with, lower-cased.
_RATE_LIMIT_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-", "retry-after")


# One Go duration component: a number followed by a unit ("1h", "2m", "3.5s", "20ms").
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|ms|us|µs|ns|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}


def parse_duration(text: str) -> float | None:
    """Seconds in a Go-style duration such as ``"6m0s"`` or ``"20ms"``; ``None`` if unreadable.

    A bare number is taken as seconds.

    >>> parse_duration("6m0s"), parse_duration("20ms"), parse_duration("1.5")
    (360.0, 0.02, 1.5)
    """
    text = text.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    pos, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != pos:  # garbage between components: refuse rather than guess
            return None
        total += float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        pos = match.end()
    return total if pos == len(text) else None


def _seconds_until_timestamp(text: str, now: datetime) -> float | None:
    """Seconds from ``now`` until an RFC 3339 timestamp (Anthropic's resets), never negative."""
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return max(0.0, (moment - now).total_seconds())


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def read_rate_limit_headers(
    headers: Mapping[str, str], *, now: datetime | None = None
) -> RateLimitObservation:
    """Fold OpenAI and Anthropic rate-limit headers into a :class:`RateLimitObservation`.

    Header names are matched case-insensitively. ``now`` (UTC, injectable for tests) is the
    moment the headers were received; it turns timestamps into seconds-from-now.

    >>> read_rate_limit_headers({"retry-after-ms": "1500", "retry-after": "3"}).retry_after
    1.5
    """
    # Every response passes here: keep only the names read below, and skip the rest of the
    # work (and the clock) when there are none.
    h = {
        low: str(value)
        for name, value in (headers or {}).items()
        if (low := str(name).lower()).startswith(_RATE_LIMIT_PREFIXES)
    }
    if not h:
        return _EMPTY
    now = now or datetime.now(timezone.utc)
    values: dict[str, float | int | None] = {}

    # OpenAI: x-ratelimit-<field>-<kind>, resets as durations.
    for kind in ("requests", "tokens"):
        values[f"limit_{kind}"] = _int(h.get(f"x-ratelimit-limit-{kind}"))
        values[f"remaining_{kind}"] = _int(h.get(f"x-ratelimit-remaining-{kind}"))
        reset = h.get(f"x-ratelimit-reset-{kind}")
        values[f"reset_{kind}"] = parse_duration(reset) if reset is not None else None

    # Anthropic: anthropic-ratelimit-<kind>-<field>, resets as timestamps. Where both
    # families are present (a proxy merging them), the Anthropic reading fills the gaps only.
    for kind, key in (
        ("requests", "requests"),
        ("tokens", "tokens"),
        ("input-tokens", "input_tokens"),
        ("output-tokens", "output_tokens"),
    ):
        prefix = f"anthropic-ratelimit-{kind}-"
        for field_name, parsed in (
            ("limit", _int(h.get(prefix + "limit"))),
            ("remaining", _int(h.get(prefix + "remaining"))),
            (
                "reset",
                _seconds_until_timestamp(h[prefix + "reset"], now)
                if prefix + "reset" in h
                else None,
            ),
        ):
            name = f"{field_name}_{key}"
            if values.get(name) is None:
                values[name] = parsed

    # The same reading of retry-after-ms / retry-after as every sender's (one parser).
    values["retry_after"] = retry_after(h, None, now=now)
    return RateLimitObservation(**values)  # type: ignore[arg-type]
