"""Background responses against the mock: polled to completion, cancelled on timeout."""

from __future__ import annotations

import aiohttp
import pytest

from deluge_ray._secrets import read_api_key
from deluge_ray.api_requests import build_request
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import MockConfig, MockProvider, use_mock
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._background import run_background_response

MODEL = get_model("gpt-4.1-mini")


def spec(background: bool = True):
    return build_request(
        MODEL,
        Conversation().user("write a long essay"),
        SamplingParams(),
        use_responses_api=True,
        background=background,
        api_key=read_api_key(MODEL.api_key_env_var),
    )


async def test_background_job_is_polled_until_it_completes(mock):
    mock.script("*", ["the essay"])
    async with aiohttp.ClientSession() as http:
        outcome = await run_background_response(http, MODEL, spec(), timeout=30, poll_interval=0.01)
    assert outcome.parsed.error is None and outcome.parsed.status == "completed"
    assert outcome.parsed.content.completion == "the essay"
    assert outcome.parsed.usage.output_tokens > 0 and outcome.parsed.cost > 0
    assert outcome.polls >= 1


async def test_background_job_is_cancelled_when_the_timeout_passes():
    async with MockProvider(MockConfig(batch_seconds=30)) as mock, aiohttp.ClientSession() as http:
        with use_mock(mock):
            outcome = await run_background_response(
                http, MODEL, spec(), timeout=0.2, poll_interval=0.05
            )
            assert outcome.parsed.is_error
            assert "was cancelled" in outcome.parsed.error.message
            got = await http.get(
                f"{mock.openai_base_url}/responses/{outcome.parsed.response_id}",
                headers={"Authorization": "Bearer k"},
            )
            assert (await got.json())["status"] == "cancelled"


async def test_a_request_without_background_is_refused(mock):
    async with aiohttp.ClientSession() as http:
        with pytest.raises(ConfigurationError, match="background=True"):
            await run_background_response(http, MODEL, spec(background=False), timeout=1)


def test_background_without_the_responses_api_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="use_responses_api=True"):
        build_request(
            MODEL, Conversation().user("x"), SamplingParams(), background=True, api_key=None
        )
