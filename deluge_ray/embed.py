"""Embeddings at throughput: :func:`embed_parallel_async` and :func:`stack_results`.

Texts are cut into requests of ``batch_size`` inputs, sent concurrently at no more than
``max_requests_per_minute`` (starts spread evenly, pacing rather than bursting), retried
with backoff on 429/5xx, and returned as one :class:`EmbeddingResponse` per request, in
input order. A request that still fails after ``max_attempts`` is an error entry, not an
exception for the whole call.

    >>> import asyncio                                              # doctest: +SKIP
    >>> responses = asyncio.run(embed_parallel_async(["hello", "world"]))
    >>> stack_results(responses).shape
    (2, 1536)
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import aiohttp
import numpy as np

from .api_requests.embeddings import MAX_INPUTS, build_embedding_request, parse_embedding_response
from .errors import ConfigurationError
from .models import get_model
from .ratelimit import Pacer
from .transport._http import model_headers, send_with_retries

__all__ = ["EmbeddingResponse", "embed_parallel_async", "embed_sync", "stack_results"]


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
    *,
    batch_size: int = 64,
    dimensions: int | None = None,
    max_attempts: int = 5,
    max_requests_per_minute: int = 4_000,
    max_concurrent_requests: int = 100,
    request_timeout: float = 30.0,
    show_progress: bool = False,
) -> list[EmbeddingResponse]:
    """Embed ``texts``; one response per request of ``batch_size`` texts, in input order.

    Raises :class:`ConfigurationError` for an empty list, empty strings (naming their
    indexes), a ``batch_size`` outside 1..2048, or a model that is not an embedding model.
    """
    items = list(texts)
    if not items:
        raise ConfigurationError("embed_parallel_async needs at least one text; got an empty list.")
    bad = [i for i, t in enumerate(items) if not isinstance(t, str) or not t.strip()]
    if bad:
        raise ConfigurationError(
            f"Texts to embed must be non-empty strings; bad items at indexes {bad[:10]}."
        )
    if not 1 <= batch_size <= MAX_INPUTS:
        raise ConfigurationError(
            f"batch_size must be between 1 and {MAX_INPUTS}, got {batch_size}."
        )
    chosen = get_model(model)
    if not chosen.is_embedding:
        raise ConfigurationError(
            f"{model!r} is not an embedding model; use e.g. 'text-embedding-3-small'."
        )
    headers = model_headers(chosen)  # reads the key once; fails early when it is unset
    base = chosen.resolved_base_url()
    pacer = Pacer(max_requests_per_minute, max_concurrent_requests)
    groups = [items[i : i + batch_size] for i in range(0, len(items), batch_size)]
    bar = _bar(show_progress, len(items))

    async def one(index: int, group: list[str], http: aiohttp.ClientSession) -> EmbeddingResponse:
        spec = build_embedding_request(
            chosen, group, dimensions=dimensions, api_key=None, base_url=base
        )
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


def stack_results(responses: Sequence[EmbeddingResponse]) -> np.ndarray:
    """All vectors as one ``(n_texts, dimensions)`` float32 array, in input order.

    Raises :class:`ConfigurationError` when any response is an error (its rows would be
    missing and every later row would be misaligned with its text).
    """
    failed = [r.id for r in responses if r.is_error]
    if failed:
        raise ConfigurationError(
            f"Cannot stack: requests {failed[:10]} failed "
            f"({next(r.error_message for r in responses if r.is_error)}). Retry those texts."
        )
    ordered = sorted(responses, key=lambda r: r.id)
    vectors = [v for r in ordered for v in r.embeddings]
    if not vectors:
        raise ConfigurationError("Cannot stack an empty list of embedding responses.")
    return np.asarray(vectors, dtype=np.float32)
