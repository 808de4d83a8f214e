"""examples/quickstart.py: prompts in, answers and their cost out; mock or real provider."""

from __future__ import annotations

import re
import uuid

import pytest

from deluge_ray.mock import MockProvider
from deluge_ray.models import get_model
from tests.support.examples import run_example

from .conftest import kill_limiter

PROMPTS = [
    "In one sentence, what is a rate limit?",
    "Name three rivers in Africa.",
    "What is 17 * 23? Reply with the number only.",
    "Suggest a name for a grey cat.",
    "Translate 'good morning' into French.",
]
TOTALS = re.compile(
    r"^(\d+)/(\d+) answered; (\d+) tokens in, (\d+) out; total cost \$(\d+\.\d+)$", re.M
)


def check_answers_and_cost(stdout: str) -> None:
    for prompt in PROMPTS:  # every answer printed under its own question
        assert f"Q: {prompt}\nA: Mock reply to: {prompt}\n" in stdout
    answered, total, tokens_in, tokens_out, cost = TOTALS.search(stdout).groups()
    assert (answered, total) == ("5", "5")
    model = get_model("gpt-4.1-mini")
    expected = (int(tokens_in) * model.input_cost + int(tokens_out) * model.output_cost) / 1e6
    assert int(tokens_in) > 0 and int(tokens_out) > 0
    assert float(cost) == pytest.approx(expected, abs=1e-6)


def test_quickstart_runs_against_its_own_mock_by_default(example_env) -> None:
    result = run_example("quickstart.py", env=example_env)

    assert "OPENAI_API_KEY is not set: using the mock provider" in result.stdout
    check_answers_and_cost(result.stdout)
    assert "the mock provider received 5 requests" in result.stdout
    # The client's own summary agrees.
    assert "5 succeeded, 0 failed of 5" in result.stdout


def test_quickstart_calls_the_configured_provider_when_the_key_is_set(
    example_env, ray_cluster
) -> None:
    # A "real" provider: this test's mock, reached only through the standard variables.
    key = f"sk-quickstart-{uuid.uuid4().hex[:8]}"
    with MockProvider() as provider:
        env = {**example_env, "OPENAI_API_KEY": key, "OPENAI_BASE_URL": provider.openai_base_url}
        try:
            result = run_example("quickstart.py", env=env)
        finally:
            kill_limiter(ray_cluster, "openai", key)
        stats = provider.stats()

    assert "OPENAI_API_KEY is set: calling the real provider." in result.stdout
    assert "mock provider" not in result.stdout  # it started no mock of its own
    check_answers_and_cost(result.stdout)
    assert stats["requests"] == 5 and len(stats["by_key"]) == 1
