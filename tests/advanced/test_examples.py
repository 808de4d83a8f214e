"""Smoke tests: the advanced-workflow examples run end to end against the mock."""

from __future__ import annotations

from tests.support.examples import example_env
from tests.support.examples import run_example as _run_example


def run_example(name: str) -> str:
    # No tiktoken download on these machines.
    env = example_env(DELUGE_RAY_TOKENIZER="estimate")
    return _run_example(name, env=env, timeout=120).stdout


def test_streaming_example_streams_all_three_providers():
    out = run_example("streaming.py")
    for model in ("gpt-4.1-mini", "claude-4.5-haiku", "gemini-2.5-flash"):
        assert f"[{model}]" in out
    assert out.count(" out, $") == 3


def test_batch_job_example_prints_every_result_in_order():
    out = run_example("batch_job.py")
    answers = [line.strip() for line in out.splitlines() if "Mock reply to" in line]
    # Each answer echoes its prompt, so the numbers show the results are in prompt order.
    assert [a.rstrip(".").rsplit(" ", 1)[-1] for a in answers] == [str(n) for n in range(1, 7)]
    assert "batch price" in out


def test_embed_and_rerank_example_finds_the_relevant_documents():
    out = run_example("embed_and_rerank.py")
    reranked = out.split("reranked top 2:")[1]
    assert "Embeddings map text to vectors." in reranked
