"""Turn a failed HTTP answer into an :class:`ErrorInfo`: rate-limited, retry, or give up.

One function serves every provider: their error bodies differ only in where the message
sits (``{"error": {"message"}}`` for OpenAI and Gemini, ``{"type": "error", "error":
{"message"}}`` for Anthropic).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._secrets import Secret
from ..transport._retry import BLOCKLIST_STATUSES, lower_headers, retry_after
from ._types import ErrorInfo, ErrorKind

__all__ = [
    "REDACTED",
    "classify_error",
    "credentials_in",
    "provider_message",
    "redact_error",
    "redact_secrets",
    "with_called_url",
]

#: What stands in for an API key a provider echoed back in an error body.
REDACTED = "[redacted API key]"
# Shorter "keys" are placeholders (a keyless local server, a mock); replacing every
# occurrence of a two-letter string would garble the message and hide nothing secret.
_MIN_SECRET_LEN = 8
_AUTH_HEADERS = ("authorization", "x-api-key", "x-goog-api-key", "api-key")

# Transient server trouble: 408 timeout, 5xx, and Anthropic's 529 "overloaded".
_RETRY_STATUSES = frozenset({408, 500, 502, 503, 504, 529})
_CONTEXT_PATTERNS = re.compile(
    r"context[_ ]length|context window|prompt is too long|maximum context|too many tokens"
    r"|input token count|exceeds the maximum number of tokens",
    re.IGNORECASE,
)
# OpenAI answers 429 with this code when the account is out of credit: not a rate limit.
_QUOTA_CODES = frozenset({"insufficient_quota", "billing_hard_limit_reached"})
_MAX_RAW_MESSAGE = 300


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
        return ErrorInfo(ErrorKind.RATE_LIMITED, text, retry_after(hdrs, parsed), status)
    if status in _RETRY_STATUSES or status >= 500:
        return ErrorInfo(ErrorKind.RETRY, text, retry_after(hdrs, parsed), status)
    if status in BLOCKLIST_STATUSES:
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


def with_called_url(error: ErrorInfo, url: str) -> ErrorInfo:
    """``error``, and for a 404 its message names the URL that was called.

    A 404 usually means a wrong base URL or model name; seeing the address makes that
    obvious. The query string, fragment and any user:password are dropped first, since a
    key may ride in them.

    >>> e = ErrorInfo(ErrorKind.RETRY_OTHER_MODEL, "HTTP 404: not found", None, 404)
    >>> with_called_url(e, "https://u:pw@x.test/v1/chat?key=sk-1").message
    'HTTP 404: not found [called https://x.test/v1/chat]'
    """
    if error.status != 404:
        return error
    parts = urlsplit(url)
    host = parts.netloc.rsplit("@", 1)[-1]
    shown = urlunsplit((parts.scheme, host, parts.path, "", ""))
    return dataclasses.replace(error, message=f"{error.message} [called {shown}]")


def redact_secrets(message: str, secrets: Iterable[Secret | str | None]) -> str:
    """``message`` with every API key in ``secrets`` replaced by :data:`REDACTED`.

    Some providers (and proxies in front of them) quote the key they were sent in an error
    body ("Incorrect API key provided: sk-..."). Provider messages go into
    ``error_message``, and from there into reprs, ``to_dict()``, logs and output files, so
    the key is taken out once, where an error becomes a message.

    >>> redact_secrets("bad key sk-live-12345678 sent", [Secret("sk-live-12345678")])
    'bad key [redacted API key] sent'
    """
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= _MIN_SECRET_LEN and value in message:
            message = message.replace(value, REDACTED)
    return message


def redact_error(error: ErrorInfo, secrets: Iterable[Secret | str | None]) -> ErrorInfo:
    """``error`` with :func:`redact_secrets` applied to its message."""
    message = redact_secrets(error.message, secrets)
    return error if message == error.message else dataclasses.replace(error, message=message)


def credentials_in(headers: Mapping[str, str]) -> list[str]:
    """The API keys carried by request ``headers`` (``Bearer`` prefix removed)."""
    found = []
    for name, value in headers.items():
        if name.lower() in _AUTH_HEADERS and isinstance(value, str):
            found.append(value[7:].strip() if value.lower().startswith("bearer ") else value)
    return found
