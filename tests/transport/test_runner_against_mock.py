"""RequestRunner over real HTTP to the mock provider, with its waits recorded, not slept.

These replace client-level tests that used to wait out real backoffs; one loose smoke test
of retries through the whole client stays in tests/engine/test_client_faults.py.
"""

from __future__ import annotations

import random

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request, parse_response
from deluge_ray.config import SamplingParams
from deluge_ray.mock import Faults, MockConfig, MockProvider, use_mock
from deluge_ray.mock._validate import MockHTTPError
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._retry import backoff
from deluge_ray.transport._runner import RequestRunner
from deluge_ray.transport._session import ProviderTransport
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem, WorkResult
from tests.support.mock_rules import fail_first

MODEL = get_model("gpt-4.1-mini")
SEED = 5


async def serve(
    prompt: str, *, max_attempts: int = 5, request_timeout: float = 10
) -> tuple[WorkResult, list[float]]:
    """One item through a runner on a real HTTP session; the waits it asked for."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    transport = ProviderTransport("runner-test")
    runner = RequestRunner(
        send=transport.send,
        lease_for=transport.lease_for,
        build_request=build_request,
        parse_response=parse_response,
        rng=random.Random(SEED),
        sleep=record,
    )
    route = ModelRoute(
        model=MODEL,
        sampling_params=SamplingParams(),
        weight=1.0,
        base_url=MODEL.resolved_base_url(),
        api_key=Secret("sk-mock"),
    )
    spec = CallSpec(
        spec_id=0, routes=(route,), max_attempts=max_attempts, request_timeout=request_timeout
    )
    item = WorkItem(key=0, conversation=Conversation().user(prompt), estimated_tokens=10, spec_id=0)
    try:
        return await runner.run(item, spec), waits
    finally:
        await transport.close()


async def test_rate_limited_answer_waits_its_retry_after(mock):
    limited = MockHTTPError(429, "slow down", headers={"retry-after-ms": "200"})
    mock.script(MODEL.name, fail_first(1, limited))
    result, waits = await serve("throttled")
    assert waits == [0.2]
    assert result.response.completion == "ok after errors: throttled"
    assert (result.rate_limited, result.retries, result.requests_sent) == (1, 1, 2)
    assert mock.stats()["by_status"] == {"429": 1, "200": 1}


async def test_errors_after_max_attempts_say_what_happened(mock):
    mock.script(MODEL.name, fail_first(10, MockHTTPError(503, "down for maintenance")))
    result, waits = await serve("doomed", max_attempts=2)
    assert waits == [backoff(1, None, random.Random(SEED))]  # none after the last attempt
    resp = result.response
    assert resp.is_error and resp.status_code == 503
    assert "down for maintenance" in resp.error_message and "2 attempts" in resp.error_message
    assert mock.stats()["requests"] == 2


async def test_request_timeout_gives_an_error_result():
    # The server holds each request far past the (short) request_timeout.
    config = MockConfig(faults=Faults(hang=1.0, hang_seconds=1.0))
    async with MockProvider(config) as server:
        with use_mock(server):
            result, waits = await serve("hang", max_attempts=2, request_timeout=0.05)
    resp = result.response
    assert resp.is_error and "request_timeout=0.05s" in resp.error_message
    assert "2 attempts" in resp.error_message and len(waits) == 1
