"""An eval over a Parquet dataset with Ray Data: read, answer every row, score, write.

Runs against the built-in mock provider unless OPENAI_API_KEY is set. The questions are
written to Parquet first (stand-in for your own files), answered by
``LLMClient.process_dataset`` (its actors share the client's rate limit and cache with
every other client of the key), scored with plain Ray Data transforms, and written back to
Parquet without ever gathering the rows on the driver. Run it twice: the second run is
answered from the SQLite cache and sends nothing.

Usage: ``python examples/ray_data_eval.py [number_of_rows] [output_dir]``.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile

import ray
import ray.data

from deluge_ray import LLMClient
from deluge_ray.cache import SqliteCache
from deluge_ray.mock import MockProvider, RequestView, use_mock


def mock_model(view: RequestView) -> str:
    """The mock "model": adds the two numbers of the question, wrong one time in ten."""
    a, b = (int(x) for x in re.findall(r"\d+", view.last_user_text)[:2])
    return str(a + b + (1 if (a * 7 + b) % 10 == 0 else 0))


def score(batch: dict) -> dict:
    """Mark each answer right or wrong (a Ray Data batch of numpy columns)."""
    batch["correct"] = [
        (completion or "").strip() == str(expected)
        for completion, expected in zip(batch["completion"], batch["expected"], strict=True)
    ]
    return batch


def run(n_rows: int, out_dir: str) -> dict:
    """Write the questions, answer and score them; return the summary figures."""
    questions = os.path.join(out_dir, "questions")
    if not os.path.exists(questions):  # a second run reads the same questions
        ray.data.from_items(
            [
                {
                    "id": i,
                    "question": f"What is {i} + {2 * i + 1}? Answer with the number only.",
                    "expected": 3 * i + 1,
                }
                for i in range(n_rows)
            ]
        ).write_parquet(questions)

    client = LLMClient(
        "gpt-4.1-mini",
        max_requests_per_minute=6_000,
        max_tokens_per_minute=2_000_000,
        max_new_tokens=16,
        cache=SqliteCache(os.path.join(out_dir, "answers.sqlite"), "ray-data-eval"),
        progress="manual",
    )
    answered = client.process_dataset(
        ray.data.read_parquet(questions),
        prompt_column="question",
        batch_size=64,
    )
    scored_dir = os.path.join(out_dir, "scored")
    shutil.rmtree(scored_dir, ignore_errors=True)
    answered.map_batches(score, batch_format="numpy").write_parquet(scored_dir)

    # One streaming pass over the written files (Ray Data's sum() would shuffle per column).
    summary = {"rows": 0, "correct": 0, "errors": 0, "from_cache": 0, "cost": 0.0}
    columns = ["correct", "is_error", "cache_hit", "cost"]
    for batch in (
        ray.data.read_parquet(scored_dir)
        .select_columns(columns)
        .iter_batches(batch_format="pandas")
    ):
        summary["rows"] += len(batch)
        summary["correct"] += int(batch["correct"].sum())
        summary["errors"] += int(batch["is_error"].sum())
        summary["from_cache"] += int(batch["cache_hit"].sum())
        summary["cost"] += float(batch["cost"].fillna(0.0).sum())
    client.shutdown()
    return summary


def main(n_rows: int = 500, out_dir: str | None = None) -> dict:
    """Run the eval (against the mock unless OPENAI_API_KEY is set) and print the summary."""
    with contextlib.ExitStack() as stack:
        if not os.environ.get("OPENAI_API_KEY"):
            mock = stack.enter_context(MockProvider())
            mock.script("*", mock_model)
            stack.enter_context(use_mock(mock))
        if out_dir is None:
            out_dir = stack.enter_context(tempfile.TemporaryDirectory())
        if not ray.is_initialized():  # joins RAY_ADDRESS when set, else a quiet local Ray
            ray.init(namespace="deluge_ray", include_dashboard=False, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
        summary = run(n_rows, out_dir)
    print(
        f"{summary['rows']} rows: {summary['correct']} correct, {summary['errors']} errors, "
        f"{summary['from_cache']} answered from the cache, ${summary['cost']:.4f}"
    )
    return summary


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 500,
        sys.argv[2] if len(sys.argv) > 2 else None,
    )
