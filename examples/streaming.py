"""Stream a reply token by token from OpenAI, Anthropic and Gemini models.

Runs against the built-in mock provider unless the provider's API key is set, e.g.
``OPENAI_API_KEY=sk-... python examples/streaming.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys

from deluge_ray.api_requests import APIResponse
from deluge_ray.api_requests.streaming import stream_chat
from deluge_ray.mock import MockProvider, use_mock

MODELS = {"openai": "gpt-4.1-mini", "anthropic": "claude-4.5-haiku", "gemini": "gemini-2.5-flash"}


async def stream_one(model: str) -> APIResponse:
    print(f"\n[{model}] ", end="")
    final = None
    async for item in stream_chat(model, "Count from one to ten in words."):
        if isinstance(item, str):
            print(item, end="", flush=True)  # each delta as it arrives
        else:
            final = item
    assert final is not None
    print(f"\n  -> {final.input_tokens} in / {final.output_tokens} out, ${final.cost or 0:.6f}")
    return final


async def main() -> int:
    real = [p for p in MODELS if os.environ.get(f"{p.upper()}_API_KEY")]
    with contextlib.ExitStack() as stack:
        if not real:  # no keys: dry-run everything on the mock
            mock = stack.enter_context(MockProvider())
            stack.enter_context(use_mock(mock))
            real = list(MODELS)
        results = [await stream_one(MODELS[p]) for p in real]
    return 1 if any(r.is_error for r in results) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
