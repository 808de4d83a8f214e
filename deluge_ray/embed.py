"""Embeddings at throughput: :func:`embed_parallel_async` and :func:`stack_results`.

Texts are cut into requests of ``batch_size`` inputs, sent concurrently at no more than
``max_requests_per_minute`` (starts spread evenly, pacing rather than bursting), retried
with backoff on 429/5xx, and returned as one :class:`EmbeddingResponse` per request, in
input order. A request that still fails after ``max_attempts`` is an error entry, not an
exception for the whole call.

    >>> import asyncio                                              # doctest: +SKIP
    >>> responses = asyncio.run(embed_parallel_async(["hello", "world"]))
    >>> len(stack_results(responses)), len(stack_results(responses)[0])
    (2, 1536)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ._tokens import count_text_tokens
from .api_requests.embeddings import build_embedding_request, parse_embedding_response
from .errors import ConfigurationError
from .models import get_model
from .ratelimit import Pacer
from .transport._http import model_headers, send_with_retries

__all__ = ["EmbeddingResponse", "embed_parallel_async", "embed_sync", "stack_results"]

#: The most texts per request, as in lm-deluge 0.0.168 (Cohere's limit; OpenAI allows more).
MAX_BATCH_SIZE = 96


@dataclass
class EmbeddingResponse:
    """The vectors of one request's ``texts`` (in order), or why the request failed."""

    id: int
    status_code: int | None
    is_error: bool
    error_message: str | None
    texts: list[str]
    embeddings: list[list[float]] = field(default_factory=list)
    tokens_used: int = 0
    cost: float | None = None


async def embed_parallel_async(
    texts: Sequence[str],
    model: str = "text-embedding-3-small",
    max_attempts: int = 5,
    max_requests_per_minute: int = 4_000,
    max_tokens_per_minute: int = 1_000_000,
    max_concurrent_requests: int = 100,
    request_timeout: float = 30.0,
    batch_size: int = 64,
    show_progress: bool = False,
    *,
    dimensions: int | None = None,
    **kwargs: Any,
) -> list[EmbeddingResponse]:
    """Embed ``texts``; one response per request of ``batch_size`` texts, in input order.

    The positional order and limits are lm-deluge 0.0.168's: an empty list gives ``[]``;
    ``batch_size`` may be 1..96; ``max_tokens_per_minute`` slows the request rate so the
    estimated tokens per minute stay under it; other keyword arguments (``input_type``,
    ``encoding_format``, ...) are sent in each request body. Raises
    :class:`ConfigurationError` (a ``ValueError``) for empty strings (naming their
    indexes), limits that are not positive, or a model that is not an embedding model.
    """
    items = list(texts)
    for label, value in (
        ("max_requests_per_minute", max_requests_per_minute),
        ("max_tokens_per_minute", max_tokens_per_minute),
        ("max_concurrent_requests", max_concurrent_requests),
    ):
        if value <= 0:
            raise ConfigurationError(f"{label} must be > 0, got {value}.")
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ConfigurationError(
            f"batch_size must be between 1 and {MAX_BATCH_SIZE}, got {batch_size}."
        )
    if not items:
        return []
    bad = [i for i, t in enumerate(items) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ConfigurationError(
            f"Texts to embed must be non-empty strings; bad items at indexes {bad[:10]}."
        )
    chosen = get_model(model)
    if not chosen.is_embedding:
        raise ConfigurationError(
            f"{model!r} is not an embedding model; use e.g. 'text-embedding-3-small'."
        )
    headers = model_headers(chosen)  # reads the key once; fails early when it is unset
    base = chosen.resolved_base_url()
    groups = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    rate = token_paced_rate(
        max_requests_per_minute,
        max_tokens_per_minute,
        sum(map(count_text_tokens, items)),
        len(groups),
    )
    pacer = Pacer(rate, max_concurrent_requests)
    bar = _bar(show_progress, len(items))

    async def one(index: int, group: list[str], http: aiohttp.ClientSession) -> EmbeddingResponse:
        spec = build_embedding_request(
            chosen, group, dimensions=dimensions, api_key=None, base_url=base
        )
        if kwargs:
            spec.json.update(kwargs)
        result = await send_with_retries(
            http,
            "POST",
            spec.url,
            headers={**spec.headers, **headers},
            json=spec.json,
            max_attempts=max_attempts,
            timeout=request_timeout,
            pacer=pacer,
        )
        if bar is not None:
            bar.update(len(group))
        if not result.ok:
            return EmbeddingResponse(
                index,
                result.status or None,
                True,
                result.error.message,
                group,  # type: ignore[union-attr]
            )
        parsed = parse_embedding_response(chosen, result.status, result.headers, result.body)
        if parsed.is_error or len(parsed.embeddings or []) != len(group):
            message = parsed.error.message if parsed.error else "wrong number of vectors returned"
            return EmbeddingResponse(index, result.status, True, message, group)
        tokens = parsed.usage.input_tokens if parsed.usage else 0
        return EmbeddingResponse(
            index, result.status, False, None, group, parsed.embeddings or [], tokens, parsed.cost
        )

    try:
        async with aiohttp.ClientSession() as http:
            return list(await asyncio.gather(*(one(i, g, http) for i, g in enumerate(groups))))
    finally:
        if bar is not None:
            bar.close()


def _bar(show: bool, total: int):
    if not show:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="embedding", unit="text")


def embed_sync(
    texts: Sequence[str], model: str = "text-embedding-3-small", **kwargs
) -> list[EmbeddingResponse]:
    """:func:`embed_parallel_async` for synchronous code (runs its own event loop)."""
    return asyncio.run(embed_parallel_async(texts, model, **kwargs))


def stack_results(results: Sequence[EmbeddingResponse]) -> list[list[float]]:
    """All vectors as one list, in the order of ``results`` (as 0.0.168 returns them).

    Raises :class:`ConfigurationError` (a ``ValueError``) when any response is an error:
    its rows would be missing and every later row misaligned with its text. Wrap the
    result in ``numpy.asarray`` for a matrix.
    """
    failed = [r.id for r in results if r.is_error]
    if failed:
        raise ConfigurationError(
            f"Cannot stack: requests {failed[:10]} failed "
            f"({next(r.error_message for r in results if r.is_error)}). Retry those texts."
        )
    return [vector for r in results for vector in r.embeddings]


def token_paced_rate(rpm: int, tpm: int, total_tokens: int, requests: int) -> float:
    """The request rate that keeps both ``rpm`` and the estimated tokens per minute in bounds.

    >>> token_paced_rate(1_000, 10_000, total_tokens=400, requests=4)  # 100 tokens each
    100.0
    """
    per_request = max(total_tokens / max(requests, 1), 1.0)
    return float(min(rpm, tpm / per_request))
