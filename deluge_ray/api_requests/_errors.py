"""Turn a failed HTTP answer into an :class:`ErrorInfo`: rate-limited, retry, or give up.

One function serves every provider: their error bodies differ only in where the message
sits (``{"error": {"message"}}`` for OpenAI and Gemini, ``{"type": "error", "error":
{"message"}}`` for Anthropic).
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Mapping
from typing import Any

from ._types import ErrorInfo, ErrorKind

__all__ = ["classify_error", "lower_headers", "provider_message"]

# Transient server trouble: 408 timeout, 5xx, and Anthropic's 529 "overloaded".
_RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 529})
# The key, project or model is not usable by us: try another model, it is not transient.
_OTHER_MODEL_STATUSES = frozenset({401, 403, 404})
_CONTEXT_PATTERNS = re.compile(
    r"context[_ ]length|context window|prompt is too long|maximum context|too many tokens"
    r"|input token count|exceeds the maximum number of tokens",
    re.IGNORECASE,
)
# OpenAI answers 429 with this code when the account is out of credit: not a rate limit.
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
_MAX_RAW_MESSAGE = 300


def lower_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """A plain dict of ``headers`` with lower-case names (HTTP names are case-insensitive)."""
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _retry_after(headers: dict[str, str], body: Any) -> float | None:
    """Seconds to wait, from ``retry-after-ms``, ``retry-after`` or Gemini's RetryInfo."""
    if "retry-after-ms" in headers:
        try:
            return max(0.0, float(headers["retry-after-ms"]) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value) if value else None
            if when is not None:
                return max(0.0, when.timestamp() - time.time())
    # Gemini puts the delay in the body: error.details[].retryDelay = "31s".
    details = body.get("error", {}).get("details") if isinstance(body, dict) else None
    for item in details if isinstance(details, list) else []:
        delay = item.get("retryDelay") if isinstance(item, dict) else None
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return float(delay[:-1])
            except ValueError:
                continue
    return None


def provider_message(body: Any, raw: bytes) -> tuple[str, str | None]:
    """The provider's human message and machine code from an error body."""
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            message = err.get("message") or json.dumps(err)[:_MAX_RAW_MESSAGE]
            code = err.get("code") or err.get("type") or err.get("status")
            return str(message), str(code) if code is not None else None
        if isinstance(err, str):
            return err, None
        if isinstance(body.get("message"), str):
            return body["message"], None
    text = raw.decode("utf-8", errors="replace").strip()
    return (text[:_MAX_RAW_MESSAGE] or "(empty body)"), None


def classify_error(
    status: int, headers: Mapping[str, str] | None, body: bytes | str | None
) -> ErrorInfo:
    """Decide what to do about a non-2xx answer (or a 2xx whose body is unusable).

    >>> classify_error(429, {"retry-after-ms": "1500"}, b'{"error": {"message": "slow down"}}')
    ErrorInfo(kind=<ErrorKind.RATE_LIMITED: 'rate_limited'>, message='HTTP 429: slow down', retry_after=1.5, status=429)
    """
    raw = body.encode() if isinstance(body, str) else (body or b"")
    hdrs = lower_headers(headers)
    try:
        parsed: Any = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        parsed = None
    message, code = provider_message(parsed, raw)
    text = f"HTTP {status}: {message}"

    if 200 <= status < 300:
        # A success status whose body we could not use: a truncated or garbled answer.
        return ErrorInfo(
            ErrorKind.RETRY, f"HTTP {status} with an unreadable body: {message}", None, status
        )
    if status == 429:
        if code in _QUOTA_CODES:
            return ErrorInfo(
                ErrorKind.RETRY_OTHER_MODEL,
                f"{text} (the account is out of quota; add credit or use another model)",
                None,
                status,
            )
        return ErrorInfo(ErrorKind.RATE_LIMITED, text, _retry_after(hdrs, parsed), status)
    if status in _RETRY_STATUSES or status >= 500:
        return ErrorInfo(ErrorKind.RETRY, text, _retry_after(hdrs, parsed), status)
    if status in _OTHER_MODEL_STATUSES:
        hint = {
            401: "check the API key",
            403: "the key may lack access to this model",
            404: "the model or endpoint does not exist at this base URL",
        }[status]
        return ErrorInfo(ErrorKind.RETRY_OTHER_MODEL, f"{text} ({hint})", None, status)
    if _CONTEXT_PATTERNS.search(message) or code == "context_length_exceeded":
        return ErrorInfo(
            ErrorKind.GIVE_UP,
            f"{text} (the prompt is longer than the model's context window; shorten it "
            "or lower max_new_tokens)",
            None,
            status,
        )
    return ErrorInfo(ErrorKind.GIVE_UP, text, None, status)
