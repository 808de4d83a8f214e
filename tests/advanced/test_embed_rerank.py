"""Embeddings and rerank against the mock: batching, order, retries on 429, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from deluge_ray.embed import embed_parallel_async, stack_results
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock._embeddings import embed_text
from deluge_ray.rerank import rerank_parallel_async

TEXTS = [f"document number {i}" for i in range(10)]


async def test_embeddings_are_batched_and_returned_in_input_order(mock):
    responses = await embed_parallel_async(TEXTS, batch_size=3)
    assert [len(r.texts) for r in responses] == [3, 3, 3, 1]
    assert mock.stats()["by_endpoint"]["embeddings"] == 4
    matrix = np.asarray(stack_results(responses), dtype=np.float32)
    assert matrix.shape == (10, 256)
    # Row i is the vector of text i (the mock's vectors are a pure function of the text).
    expected = np.asarray([embed_text(t, 256) for t in TEXTS], dtype=np.float32)
    np.testing.assert_allclose(matrix, expected, rtol=1e-5)
    assert all(r.tokens_used > 0 and r.cost > 0 for r in responses)


async def test_rate_limited_requests_are_retried_until_they_succeed(mock):
    mock.set_limits(rpm=600, burst_seconds=0.5)  # about 5 requests at once
    responses = await embed_parallel_async(TEXTS, batch_size=1, max_requests_per_minute=1_000_000)
    assert not any(r.is_error for r in responses)
    assert mock.stats()["rate_limited"] > 0, "the test should have provoked 429s"
    assert np.asarray(stack_results(responses)).shape == (10, 256)


async def test_a_request_that_keeps_failing_is_an_error_entry(mock):
    mock.set_limits(rpm=600, burst_seconds=0.1)  # one request at once
    responses = await embed_parallel_async(
        TEXTS[:4], batch_size=1, max_attempts=1, max_requests_per_minute=1_000_000
    )
    errors = [r for r in responses if r.is_error]
    assert errors and all(r.status_code == 429 for r in errors)
    with pytest.raises(ConfigurationError, match="Cannot stack"):
        stack_results(responses)


@pytest.mark.parametrize(
    ("texts", "kwargs", "match"),
    [
        ([], {"batch_size": 97}, "batch_size"),
        (["ok", ""], {}, r"indexes \[1\]"),
        (["ok"], {"batch_size": 0}, "batch_size"),
        (["ok"], {"model": "gpt-4.1-mini"}, "not an embedding model"),
    ],
)
async def test_bad_embedding_input_is_a_clear_error(mock, texts, kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        await embed_parallel_async(texts, **kwargs)
    assert mock.stats()["requests"] == 0


async def test_rerank_orders_documents_by_relevance_per_query(mock):
    queries = ["red apples", "fast cars"]
    docs = [
        ["bananas are yellow", "red apples are sweet", "apples"],
        ["cars and trucks", "slow boats", "fast cars win races", "red apples"],
    ]
    results = await rerank_parallel_async(queries, docs, top_k=2)
    assert [r.query for r in results] == queries
    assert results[0].ranked_documents == ["red apples are sweet", "apples"]
    assert results[1].ranked_documents[0] == "fast cars win races"
    assert results[0].top_k_scores == sorted(results[0].top_k_scores, reverse=True)
    assert mock.stats()["by_endpoint"]["rerank"] == 2


@pytest.mark.parametrize(
    ("queries", "docs", "match"),
    [
        (["q"], [[]], "has no documents"),
        (["q", "r"], [["a"]], "one list of documents per query"),
        ([], [], "at least one query"),
        ([""], [["a"]], "Query 0 is empty"),
    ],
)
async def test_bad_rerank_input_is_a_clear_error(mock, queries, docs, match):
    with pytest.raises(ConfigurationError, match=match):
        await rerank_parallel_async(queries, docs)
    assert mock.stats()["requests"] == 0
