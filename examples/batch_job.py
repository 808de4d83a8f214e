"""Submit prompts through a provider batch API (half price) and collect the results.

Runs against the built-in mock provider unless OPENAI_API_KEY is set; on the real API a
batch can take up to 24 hours, so the poll interval is long there.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from deluge_ray.mock import MockConfig, MockProvider, use_mock
from deluge_ray.prompt import Conversation
from deluge_ray.transport._batch_jobs import submit_batch_job, wait_for_batch_job

PROMPTS = [f"Give one fun fact about the number {n}." for n in range(1, 7)]


async def main() -> int:
    real = bool(os.environ.get("OPENAI_API_KEY"))
    with contextlib.ExitStack() as stack:
        if not real:
            mock = stack.enter_context(MockProvider(MockConfig(batch_seconds=0.2)))
            stack.enter_context(use_mock(mock))
        prompts = [Conversation().system("Be brief.").user(p) for p in PROMPTS]
        batch_ids = await submit_batch_job("gpt-4.1-mini", prompts, batch_size=4)
        print(f"submitted {len(prompts)} prompts as batches {batch_ids}")
        results = await wait_for_batch_job(batch_ids, "openai", poll_interval=60 if real else 0.05)
    for prompt, result in zip(PROMPTS, results, strict=True):
        print(f"- {prompt}\n  {result.completion if not result.is_error else result.error_message}")
    print(f"total cost (batch price): ${sum(r.cost or 0 for r in results):.6f}")
    return 1 if any(r.is_error for r in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
