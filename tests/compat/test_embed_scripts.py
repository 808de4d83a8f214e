"""Embedding helpers: the same scripts give the same results with 0.0.168 and deluge_ray."""

from __future__ import annotations

import asyncio

import lm_deluge.embed as oracle
import pytest

import deluge_ray.embed as ours

LIBS = {"lm_deluge": oracle, "deluge_ray": ours}


def _responses(lib, *, fail: bool = False):
    return [
        lib.EmbeddingResponse(0, 200, False, None, ["a", "b"], [[1.0, 0.0], [0.0, 1.0]]),
        lib.EmbeddingResponse(
            1,
            500 if fail else 200,
            fail,
            "boom" if fail else None,
            ["c"],
            [] if fail else [[0.5, 0.5]],
        ),
    ]


def test_empty_batch_returns_an_empty_list():
    for lib in LIBS.values():
        assert asyncio.run(lib.embed_parallel_async([], show_progress=False)) == []


def test_stack_results_returns_what_0_0_168_returns():
    theirs = oracle.stack_results(_responses(oracle))
    mine = ours.stack_results(_responses(ours))
    assert mine == theirs == [[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]]
    assert ours.stack_results([]) == oracle.stack_results([]) == []


def test_stack_results_refuses_a_failed_batch_with_a_value_error():
    for lib in LIBS.values():
        with pytest.raises(ValueError):
            lib.stack_results(_responses(lib, fail=True))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"batch_size": 97},
        {"max_tokens_per_minute": 0},
        {"max_requests_per_minute": 0},
        {"max_concurrent_requests": 0},
    ],
)
def test_limits_are_validated_as_0_0_168_validates_them(kwargs):
    for lib in LIBS.values():
        with pytest.raises(ValueError):
            asyncio.run(lib.embed_parallel_async(["x"], show_progress=False, **kwargs))


def test_token_limit_slows_the_request_rate():
    assert ours.token_paced_rate(1_000, 10_000, total_tokens=400, requests=4) == 100.0
    assert ours.token_paced_rate(50, 10_000, total_tokens=400, requests=4) == 50.0
