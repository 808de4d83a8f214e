"""Smoke tests: the advanced-workflow examples run end to end against the mock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def run_example(name: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL"))}
    env["DELUGE_RAY_TOKENIZER"] = "estimate"  # no tiktoken download on these machines
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


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
