"""send_with_retries (driver-side HTTP) follows the same policy, with its waits recorded."""

from __future__ import annotations

import random

import aiohttp
import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.mock._validate import MockHTTPError
from deluge_ray.transport._http import send_with_retries
from deluge_ray.transport._retry import backoff
from tests.support.mock_rules import fail_first

WIRE = "gpt-4.1-mini-2025-04-14"
BODY = {"model": WIRE, "messages": [{"role": "user", "content": "hi"}]}
SEED = 3


async def post(mock, *, max_attempts: int = 5):
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    async with aiohttp.ClientSession() as session:
        result = await send_with_retries(
            session,
            "POST",
            f"{mock.openai_base_url}/chat/completions?key=sk-hidden",
            headers={"authorization": "Bearer sk-mock"},
            json=BODY,
            max_attempts=max_attempts,
            sleep=record,
            rng=random.Random(SEED),
        )
    return result, waits


async def test_a_429_waits_what_the_server_asked(mock):
    limited = MockHTTPError(429, "slow down", headers={"retry-after-ms": "300"})
    mock.script(WIRE, fail_first(1, limited))
    result, waits = await post(mock)
    assert result.ok and result.status == 200 and result.attempts == 2
    assert waits == [0.3]


async def test_5xx_until_max_attempts_backs_off_then_reports(mock):
    mock.script(WIRE, fail_first(10, MockHTTPError(503, "down")))
    result, waits = await post(mock, max_attempts=3)
    rng = random.Random(SEED)
    assert waits == [backoff(1, None, rng), backoff(2, None, rng)]
    assert not result.ok and result.status == 503 and result.attempts == 3


async def test_a_bad_request_is_not_retried(mock):
    mock.script(WIRE, fail_first(1, MockHTTPError(400, "bad field")))
    result, waits = await post(mock)
    assert waits == [] and result.attempts == 1 and "bad field" in result.error.message


async def test_a_404_names_the_url_without_its_query(mock):
    mock.script(WIRE, fail_first(1, MockHTTPError(404, "no such thing")))
    result, waits = await post(mock)
    assert waits == [] and result.status == 404
    assert f"[called {mock.openai_base_url}/chat/completions]" in result.error.message
    assert "sk-hidden" not in result.error.message


async def test_max_attempts_below_one_is_refused(mock):
    with pytest.raises(ConfigurationError, match="max_attempts must be >= 1"):
        await post(mock, max_attempts=0)
