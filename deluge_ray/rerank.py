"""Reranking at throughput: :func:`rerank_parallel_async` against a Cohere-style ``/rerank``.

One request per query (with that query's documents), sent concurrently at no more than
``max_requests_per_minute``, retried with backoff on 429/5xx, answered in query order.
The endpoint is ``{base_url}/rerank`` of the model's registry entry (provider
``"cohere"``, overridable with ``COHERE_BASE_URL``).

    >>> import asyncio                                              # doctest: +SKIP
    >>> (r,) = asyncio.run(rerank_parallel_async(["cats"], [["dogs", "cats purr"]]))
    >>> r.ranked_documents[0]
    'cats purr'
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from .errors import ConfigurationError
from .models import get_model
from .ratelimit import Pacer
from .transport._http import model_headers, send_with_retries

__all__ = ["RerankingResponse", "rerank_parallel_async", "rerank_sync"]


@dataclass
class RerankingResponse:
    """One query's documents, best first: indexes into ``documents`` and their scores."""

    id: int
    status_code: int | None
    is_error: bool
    error_message: str | None
    query: str
    documents: list[str]
    top_k_indices: list[int] = field(default_factory=list)
    top_k_scores: list[float] = field(default_factory=list)

    @property
    def ranked_documents(self) -> list[str]:
        """The top documents themselves, most relevant first."""
        return [self.documents[i] for i in self.top_k_indices]


def _check(queries: list[str], docs: list[list[str]]) -> None:
    if not queries:
        raise ConfigurationError("rerank_parallel_async needs at least one query; got none.")
    if len(queries) != len(docs):
        raise ConfigurationError(
            f"Give one list of documents per query: {len(queries)} queries but "
            f"{len(docs)} document lists."
        )
    for i, (query, group) in enumerate(zip(queries, docs, strict=True)):
        if not isinstance(query, str) or not query.strip():
            raise ConfigurationError(f"Query {i} is empty; every query must be a non-empty string.")
        if isinstance(group, str) or not group:
            raise ConfigurationError(
                f"Query {i} ({query[:40]!r}) has no documents to rerank; pass a non-empty "
                "list of strings for it."
            )


async def rerank_parallel_async(
    queries: Sequence[str],
    docs: Sequence[Sequence[str]],
    top_k: int = 3,
    model: str = "rerank-english-v3.0",
    *,
    max_attempts: int = 5,
    max_requests_per_minute: int = 4_000,
    max_concurrent_requests: int = 100,
    request_timeout: float = 10.0,
    progress_bar: Any = None,
) -> list[RerankingResponse]:
    """Rerank ``docs[i]`` for ``queries[i]``; keep the ``top_k`` best of each, in query order.

    ``progress_bar``: a caller-owned tqdm-like object; it gets ``update(1)`` as each query
    finishes (success or error) and is left open, as in 0.0.168.

    Raises :class:`ConfigurationError` when a query is empty, has no documents, or the
    number of queries and document lists differ. A request that still fails after
    ``max_attempts`` is an error entry.
    """
    query_list = list(queries)
    doc_lists = [list(d) if not isinstance(d, str) else d for d in docs]
    _check(query_list, doc_lists)  # type: ignore[arg-type]
    if top_k < 1:
        raise ConfigurationError(f"top_k must be >= 1, got {top_k}.")
    chosen = get_model(model)
    headers = model_headers(chosen)
    url = f"{chosen.resolved_base_url()}/rerank"
    pacer = Pacer(max_requests_per_minute, max_concurrent_requests)

    async def one(i: int, http: aiohttp.ClientSession) -> RerankingResponse:
        query, group = query_list[i], doc_lists[i]
        body = {
            "model": chosen.name,
            "query": query,
            "documents": group,
            "top_n": min(top_k, len(group)),
        }
        result = await send_with_retries(
            http,
            "POST",
            url,
            headers=headers,
            json=body,
            max_attempts=max_attempts,
            timeout=request_timeout,
            pacer=pacer,
        )
        if not result.ok:
            message = result.error.message if result.error else "request failed"
            return RerankingResponse(i, result.status or None, True, message, query, group)  # type: ignore[arg-type]
        ranked = json.loads(result.body).get("results") or []
        return RerankingResponse(
            i,
            result.status,
            False,
            None,
            query,
            group,  # type: ignore[arg-type]
            [int(r["index"]) for r in ranked],
            [float(r["relevance_score"]) for r in ranked],
        )

    async def counted(i: int, http: aiohttp.ClientSession) -> RerankingResponse:
        response = await one(i, http)
        if progress_bar is not None:
            progress_bar.update(1)
        return response

    async with aiohttp.ClientSession() as http:
        return list(await asyncio.gather(*(counted(i, http) for i in range(len(query_list)))))


def rerank_sync(
    queries: Sequence[str], docs: Sequence[Sequence[str]], **kwargs
) -> list[RerankingResponse]:
    """:func:`rerank_parallel_async` for synchronous code (runs its own event loop)."""
    return asyncio.run(rerank_parallel_async(queries, docs, **kwargs))
