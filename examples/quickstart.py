"""Quickstart: send a handful of prompts, print the answers and what they cost.

    python examples/quickstart.py

With OPENAI_API_KEY set, the prompts go to OpenAI. Without it, the script starts the
bundled mock provider on 127.0.0.1 and points the client at it, so it runs anywhere with
no key and no cost (the mock echoes each prompt back and bills it at the model's prices).
Either way Ray is started for you (or joined, when RAY_ADDRESS names a cluster).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator

from deluge_ray import LLMClient, get_model
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock

MODEL = "gpt-4.1-mini"

PROMPTS = [
    "In one sentence, what is a rate limit?",
    "Name three rivers in Africa.",
    "What is 17 * 23? Reply with the number only.",
    "Suggest a name for a grey cat.",
    "Translate 'good morning' into French.",
]


@contextlib.contextmanager
def provider_for(model: str) -> Iterator[MockProvider | None]:
    """The real provider when the model's API key is set, else a local mock provider."""
    key_var = get_model(model).api_key_env_var
    if os.environ.get(key_var):
        print(f"{key_var} is set: calling the real provider.")
        yield None
        return
    config = MockConfig(latency=Latency.lognormal(median_ms=40, p99_ms=200))
    # use_mock sets OPENAI_BASE_URL & co. (and a placeholder key) for the block.
    with MockProvider(config) as mock, use_mock(mock):
        print(f"{key_var} is not set: using the mock provider at {mock.url}.")
        yield mock


def main() -> None:
    with provider_for(MODEL) as mock:
        client = LLMClient(MODEL, max_requests_per_minute=600, max_new_tokens=100)
        # Results come back in the order of PROMPTS; the progress bar and a summary
        # (requests, tokens, cost) are printed while and after they run.
        responses = client.process_prompts_sync(PROMPTS)
        client.shutdown()  # stop this client's Ray actors (the process would, at exit)

        print()
        for prompt, response in zip(PROMPTS, responses, strict=True):
            answer = f"ERROR {response.error_message}" if response.is_error else response.completion
            print(f"Q: {prompt}\nA: {answer}\n")

        answered = sum(not r.is_error for r in responses)
        tokens_in = sum(r.input_tokens for r in responses if r.usage)
        tokens_out = sum(r.output_tokens for r in responses if r.usage)
        cost = sum(r.cost or 0.0 for r in responses)
        print(
            f"{answered}/{len(PROMPTS)} answered; {tokens_in} tokens in, {tokens_out} out; "
            f"total cost ${cost:.6f}"
        )
        if mock is not None:
            print(f"the mock provider received {mock.stats()['requests']} requests")


if __name__ == "__main__":
    main()
