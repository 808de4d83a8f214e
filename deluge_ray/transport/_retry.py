"""The one retry policy: which failures retry, how long to wait, what the server asked for.

Every sender in the package (the :class:`~deluge_ray.transport._runner.RequestRunner` in the
caller actors, the driver-side :func:`~deluge_ray.transport._http.send_with_retries`, the
rate-limit header reader) takes its delays and its reading of ``retry-after`` from here, so
one outage is handled the same way whichever path met it.

This module is pure: no I/O, no clock unless none is injected, and no import from the rest
of the package at module level (the provider parsers in ``api_requests`` import it).

    >>> import random
    >>> backoff(1, None, random.Random(0)) <= 0.5
    True
    >>> retry_after({"Retry-After-Ms": "1500"})
    1.5
"""

from __future__ import annotations

import json
import random
from collections.abc import Mapping
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..api_requests._types import ErrorKind

__all__ = [
    "BACKOFF_BASE_S",
    "BACKOFF_CAP_S",
    "BLOCKLIST_STATUSES",
    "backoff",
    "lower_headers",
    "retry_after",
    "should_retry",
]

#: Ceiling of the first retry's wait; it doubles with every further retry.
BACKOFF_BASE_S = 0.5
#: No wait is longer than this, whether computed or asked for by the server.
BACKOFF_CAP_S = 30.0

#: The key, project or model is unusable by us (401 key, 403 access, 404 model or URL): try
#: another model, blocklist this one for the rest of the job, and -- lm-deluge's rule --
#: flag the response ``give_up_if_no_other_models``.
BLOCKLIST_STATUSES = frozenset({401, 403, 404})

# Kinds of failure that a wait fixes (compared by name: importing ErrorKind here would make
# api_requests, which imports this module, and this module import each other).
_RETRYABLE_KINDS = frozenset({"RATE_LIMITED", "RETRY"})


def backoff(attempt: int, retry_after: float | None, rng: random.Random) -> float:
    """Seconds to wait before retry number ``attempt`` (1-based).

    When the server named a delay (``retry_after``, seconds) it is obeyed::

        delay = min(BACKOFF_CAP_S, retry_after)

    otherwise the wait doubles per attempt, is capped, and is half-jittered::

        ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
        delay   = ceiling * rng.uniform(0.5, 1.0)

    Half jitter keeps at least half the wait (so retries do back off) while spreading the
    callers hit by one outage so they do not all come back in the same instant.

    >>> r = random.Random(0)
    >>> 0.25 <= backoff(1, None, r) <= 0.5 and 1.0 <= backoff(3, None, r) <= 2.0
    True
    >>> backoff(1, 4.0, r), backoff(9, 120.0, r)
    (4.0, 30.0)
    """
    if attempt < 1:
        raise ValueError(f"attempt is 1-based, got {attempt}.")
    if retry_after is not None:
        return min(BACKOFF_CAP_S, max(0.0, retry_after))
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** (attempt - 1))
    return ceiling * rng.uniform(0.5, 1.0)


def lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """A plain dict of ``headers`` with lower-case names (HTTP names are case-insensitive).

    >>> lower_headers({"Retry-After": "3"})
    {'retry-after': '3'}
    """
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def retry_after(
    headers: Mapping[str, str] | None, body: Any = None, *, now: datetime | None = None
) -> float | None:
    """Seconds the server asked us to wait, or ``None`` when it did not say.

    Read in this order: ``retry-after-ms`` (milliseconds, the more precise), ``retry-after``
    (delta-seconds, or an HTTP date measured from ``now``, UTC, injectable for tests), then
    Gemini's ``RetryInfo`` in the error body (``error.details[].retryDelay = "31s"``).
    ``body`` may be the parsed JSON, its bytes or text. Never negative.

    >>> retry_after({"retry-after": "3"}), retry_after({}, {"error": {"details": [{"retryDelay": "31s"}]}})
    (3.0, 31.0)
    """
    h = lower_headers(headers)
    if "retry-after-ms" in h:
        try:
            return max(0.0, float(h["retry-after-ms"].strip()) / 1000.0)
        except ValueError:
            pass  # unreadable: fall through to the other spellings
    if h.get("retry-after", "").strip():
        seconds = _delta_or_date(h["retry-after"].strip(), now)
        if seconds is not None:
            return seconds
    return _gemini_retry_delay(body)


def should_retry(kind: ErrorKind) -> bool:
    """True when waiting and sending the same request again can succeed (429s, 5xx, resets).

    Not for ``RETRY_OTHER_MODEL`` (this model cannot serve us) or ``GIVE_UP`` (the request
    itself is wrong).
    """
    return kind.name in _RETRYABLE_KINDS


def _delta_or_date(value: str, now: datetime | None) -> float | None:
    """``Retry-After`` is delta-seconds or an HTTP date (RFC 9110 section 10.2.3)."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    now = now or datetime.now(timezone.utc)
    return max(0.0, (moment - now).total_seconds())


def _gemini_retry_delay(body: Any) -> float | None:
    if isinstance(body, (bytes, bytearray, str)):
        try:
            body = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
    error = body.get("error") if isinstance(body, dict) else None
    details = error.get("details") if isinstance(error, dict) else None
    for item in details if isinstance(details, list) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                continue
    return None
