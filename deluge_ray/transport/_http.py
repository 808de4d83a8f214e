"""Driver-side HTTP for the control-plane and helper endpoints: retries, auth, pacing.

Batch jobs, file uploads, background polling, embeddings and rerank call the provider from
the driver rather than through ``ProviderCaller`` actors (they are few, long-lived or
paginated calls). They share this layer: one function that sends a request and retries
with jittered exponential backoff on the errors :func:`classify_error` calls transient
(429 honouring ``retry-after``, 408, 5xx, 529, dropped connections). Pacing for these calls
is :class:`deluge_ray.ratelimit.Pacer`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp

from ..api_requests._common import auth_headers
from ..api_requests._errors import classify_error, credentials_in, redact_error, with_called_url
from ..api_requests._types import ErrorInfo, ErrorKind
from ..errors import ConfigurationError, ProviderError
from ..models import APIModel, registry
from ..ratelimit._pacer import Pacer
from ._retry import backoff, lower_headers, should_retry

__all__ = [
    "HTTPResult",
    "model_headers",
    "provider_model",
    "raise_for_error",
    "send_with_retries",
]


@dataclass
class HTTPResult:
    """A finished exchange: status, lower-cased headers, body and the attempts it took.

    ``error`` is the classified failure of the last attempt (``None`` on 2xx).
    """

    status: int
    headers: dict[str, str]
    body: bytes
    attempts: int
    error: ErrorInfo | None = None

    @property
    def ok(self) -> bool:
        """True for a 2xx answer."""
        return self.error is None


def provider_model(provider: str) -> APIModel:
    """The registry's first (non-embedding) model of ``provider``: its base URL and key.

    Provider-level endpoints (files, batch polling) are not tied to one model; any model
    of the provider carries the base URL (with its ``*_BASE_URL`` override) and key name.
    """
    for model in registry.values():
        if model.provider == provider and not model.is_embedding:
            return model
    raise ConfigurationError(
        f"No {provider} model is registered, so its API address is unknown; register one "
        "with deluge_ray.register_model(...)."
    )


def model_headers(model: APIModel, *, json_body: bool = True) -> dict[str, str]:
    """Authentication (and version) headers for ``model``'s provider.

    The key is read from the model's environment variable now, on the driver; it only
    ever lives in the returned dict that goes on the wire.
    """
    key = model.resolve_api_key()
    headers = auth_headers(model.api_spec, key)
    if not json_body:
        headers.pop("content-type", None)  # multipart bodies set their own boundary
    return headers


async def send_with_retries(
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str],
    json: Any = None,
    data: Any = None,
    max_attempts: int = 5,
    timeout: float = 60.0,
    pacer: Pacer | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> HTTPResult:
    """Send one request, retrying transient failures; return the last answer.

    ``data`` may be a zero-argument callable returning a fresh body (an
    :class:`aiohttp.FormData` cannot be sent twice). Errors that retrying cannot fix
    (400, 401, 404, ...) return at once with ``error`` set; nothing is raised for HTTP
    failures, so callers decide between an error entry and an exception. With a
    ``pacer``, every attempt takes a start from it and a 429 slows the pacer down for all
    requests sharing it (one caller's 429 means everyone is too fast). Waits between
    attempts follow :func:`deluge_ray.transport._retry.backoff`; ``sleep`` and ``rng`` are
    injectable so tests need not wait.
    """
    if max_attempts < 1:
        raise ConfigurationError(f"max_attempts must be >= 1, got {max_attempts}.")
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    rng = rng or random.Random()
    result = HTTPResult(0, {}, b"", 0)
    for attempt in range(1, max_attempts + 1):
        body = data() if callable(data) else data
        try:
            async with pacer or _NO_PACING:
                async with session.request(
                    method, url, headers=dict(headers), json=json, data=body, timeout=client_timeout
                ) as resp:
                    raw = await resp.read()
                    result = HTTPResult(resp.status, lower_headers(resp.headers), raw, attempt)
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            info = ErrorInfo(ErrorKind.RETRY, f"{type(exc).__name__}: {exc}".strip(), None, None)
            result = HTTPResult(0, {}, b"", attempt, info)
        else:
            if 200 <= result.status < 300:
                if pacer is not None:
                    pacer.succeeded()
                return result
            error = classify_error(result.status, result.headers, result.body)
            # A key echoed in the error body must not reach an exception or a log.
            result.error = redact_error(with_called_url(error, url), credentials_in(headers))
        assert result.error is not None
        if not should_retry(result.error.kind):
            return result
        if attempt < max_attempts:
            if pacer is not None and result.error.kind is ErrorKind.RATE_LIMITED:
                pacer.throttled(result.error.retry_after)  # the pacer now holds every start
            else:
                await sleep(backoff(attempt, result.error.retry_after, rng))
    return result


def raise_for_error(result: HTTPResult, what: str) -> None:
    """Raise :class:`ProviderError` naming ``what`` failed, the status and the reason."""
    if result.error is not None:
        status = result.status or "no answer"
        raise ProviderError(
            f"{what} failed after {result.attempts} attempt(s) (HTTP {status}): "
            f"{result.error.message}",
            status_code=result.status or None,
        )


class _NoPacing:
    async def __aenter__(self) -> None:
        return None

    async def __aexit__(self, *exc: object) -> None:
        return None


_NO_PACING = _NoPacing()
