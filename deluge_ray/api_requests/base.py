"""lm-deluge 0.0.168's ``api_requests.base`` helpers that scripts call directly.

0.0.168's ``APIRequestBase`` (one object per request) has no counterpart: deluge_ray
sends requests from Ray actors, so only the header helper is reproduced here.
"""

from __future__ import annotations

from typing import Any

from ..ratelimit._headers import read_rate_limit_headers

__all__ = ["MAX_COOLDOWN_SECONDS", "parse_retry_after"]

#: The longest wait a retry-after header can impose, as in 0.0.168 (a misbehaving proxy
#: answering "retry after a day" must not stall a batch for a day).
MAX_COOLDOWN_SECONDS = 120.0


def parse_retry_after(http_response: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``retry-after`` of a response, or ``None``.

    ``http_response`` is anything with a ``headers`` mapping (an aiohttp or httpx response).

    >>> class R: headers = {"retry-after": "5"}
    >>> parse_retry_after(R())
    5.0
    """
    seconds = read_rate_limit_headers(dict(http_response.headers)).retry_after
    if seconds is None:
        return None
    return min(max(float(seconds), 0.0), MAX_COOLDOWN_SECONDS)
