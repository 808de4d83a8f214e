"""Rate-limit response headers in each provider's dialect, and the 429 details."""

from __future__ import annotations

import math
import time
from datetime import datetime, timezone

from ._limits import Decision, LimitReading

__all__ = ["openai_duration", "rate_limit_headers", "retry_headers"]

_ANTHROPIC_NAMES = {
    "requests": "requests",
    "tokens": "tokens",
    "input_tokens": "input-tokens",
    "output_tokens": "output-tokens",
}


def openai_duration(seconds: float) -> str:
    """OpenAI's reset format: ``"120ms"``, ``"1s"``, ``"6m0s"``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    if seconds < 60:
        return f"{seconds:.3g}s"
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes)}m{rest:.3g}s"


def _rfc3339(seconds_from_now: float) -> str:
    moment = datetime.fromtimestamp(time.time() + seconds_from_now, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def rate_limit_headers(family: str, decision: Decision) -> dict[str, str]:
    """Headers describing the limits after ``decision`` (empty when no limit applies).

    Anthropic gets ``anthropic-ratelimit-*``; OpenAI and the Cohere-style rerank endpoint
    get ``x-ratelimit-*`` (Cohere documents no per-response limit headers, so the mock
    speaks the dialect deluge_ray's limiter already reads). Gemini sends none.
    """
    headers: dict[str, str] = {}
    for name, reading in decision.readings.items():
        if family == "anthropic":
            _anthropic(headers, _ANTHROPIC_NAMES[name], reading)
        elif family in ("openai", "cohere") and name in ("requests", "tokens"):
            headers[f"x-ratelimit-limit-{name}"] = str(int(reading.limit))
            headers[f"x-ratelimit-remaining-{name}"] = str(int(reading.remaining))
            headers[f"x-ratelimit-reset-{name}"] = openai_duration(reading.reset_seconds)
    return headers


def _anthropic(headers: dict[str, str], name: str, reading: LimitReading) -> None:
    headers[f"anthropic-ratelimit-{name}-limit"] = str(int(reading.limit))
    headers[f"anthropic-ratelimit-{name}-remaining"] = str(int(reading.remaining))
    headers[f"anthropic-ratelimit-{name}-reset"] = _rfc3339(reading.reset_seconds)


def retry_headers(seconds: float) -> dict[str, str]:
    """``retry-after`` (whole seconds, rounded up) and the precise ``retry-after-ms``."""
    return {
        "retry-after": str(max(1, math.ceil(seconds))),
        "retry-after-ms": str(max(1, math.ceil(seconds * 1000))),
    }
