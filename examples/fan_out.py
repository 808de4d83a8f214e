"""Fan out: queue prompts with ``start_nowait`` and handle each answer as it arrives.

    python examples/fan_out.py

``start_nowait`` returns a task id at once; ``as_completed`` yields ``(task_id,
response)`` pairs in the order the answers finish, which is rarely the order they were
queued. One progress display (``open`` / ``close``) covers the whole batch.

With ANTHROPIC_API_KEY set this calls Anthropic; without it a local mock provider with
uneven latency answers instead, so the out-of-order arrival is visible.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterator

from deluge_ray import Conversation, LLMClient, get_model
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

MODEL = "claude-4.5-sonnet"

FACTS = [f"Tell me fact number {i} about octopuses, in one sentence." for i in range(1, 9)]


@contextlib.contextmanager
def provider_for(model: str) -> Iterator[MockProvider | None]:
    """The real provider when the model's API key is set, else a local mock provider."""
    key_var = get_model(model).api_key_env_var
    if os.environ.get(key_var):
        print(f"{key_var} is set: calling the real provider.")
        yield None
        return
    # A long latency tail, so answers overtake each other.
    config = MockConfig(latency=Latency.lognormal(median_ms=60, p99_ms=900), seed=3)
    with MockProvider(config) as mock, use_mock(mock):
        print(f"{key_var} is not set: using the mock provider at {mock.url}.")
        yield mock


async def fan_out(client: LLMClient, prompts: list[str]) -> list[int]:
    """Queue every prompt, print each answer as it lands; return task ids in finish order."""
    client.open(total=len(prompts))
    prompt_of = {client.start_nowait(Conversation().user(p)): p for p in prompts}
    finished = []
    async for task_id, response in client.as_completed(list(prompt_of)):
        finished.append(task_id)
        answer = response.error_message if response.is_error else response.completion
        print(f"task {task_id} <- {prompt_of[task_id]!r}\n    {answer}")
    client.close()
    return finished


def main() -> None:
    with provider_for(MODEL) as mock:
        client = LLMClient(MODEL, max_requests_per_minute=600, max_new_tokens=80)
        finished = asyncio.run(fan_out(client, FACTS))
        client.shutdown()
        queued = sorted(finished)
        print(f"queued order:   {queued}")
        print(f"finished order: {finished}")
        if mock is not None:
            print(f"the mock provider received {mock.stats()['requests']} requests")


if __name__ == "__main__":
    main()
