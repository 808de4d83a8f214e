"""``score_llm(..., return_probabilities=True)`` end to end: LLMClient (Ray) -> mock logprobs."""

from __future__ import annotations

import math

import pytest

from deluge_ray.client import LLMClient
from deluge_ray.mock import MockProvider, use_mock
from deluge_ray.mock._logprobs import token_logprobs
from deluge_ray.pipelines import score_llm_async

ANSWERS = {"7": "Yes.", "8": "No, it is even.", "9": "yes"}


def _probability_of_yes(answer: str) -> float:
    """What the mock's first-token alternatives give for 'yes' (every spelling summed)."""
    top = token_logprobs(answer, 5)[0]["top_logprobs"]
    return sum(math.exp(t["logprob"]) for t in top if t["token"].strip().lower() == "yes")


async def test_score_llm_probabilities_come_from_the_mock_logprobs(ray_cluster):
    with MockProvider() as mock, use_mock(mock):
        mock.script("*", lambda view: ANSWERS[view.messages[-1].text.split()[1]])
        client = LLMClient(
            "gpt-4.1-mini", logprobs=True, top_logprobs=5, progress="manual", max_attempts=1
        )
        try:
            scores = await score_llm_async(
                "Is {} a prime number?", [7, 8, 9], client, return_probabilities=True
            )
        finally:
            client.shutdown()
        sent = mock.stats()["requests"]
    assert sent == 3
    yes, no, lower_yes = scores
    assert yes > 0.5 and lower_yes > 0.5 and 0.0 < no < 0.5
    assert scores == [pytest.approx(_probability_of_yes(ANSWERS[k])) for k in ("7", "8", "9")]
