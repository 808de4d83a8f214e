"""RequestRunner without Ray: a cancelled request must not keep its concurrency slot."""

from __future__ import annotations

import asyncio

import pytest

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request, parse_response
from deluge_ray.config import SamplingParams
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.ratelimit._core import LimiterCore
from deluge_ray.ratelimit._lease_client import LeaseClient
from deluge_ray.transport._runner import RequestRunner
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem


async def test_a_cancelled_request_gives_its_slot_back() -> None:
    core = LimiterCore(rpm=600_000, tpm=None, max_concurrent=2)

    class InProcess:
        async def lease(self, *args):
            return core.lease(*args)

    lease = LeaseClient(InProcess(), "caller-0")
    sending = asyncio.Event()

    async def send_that_never_answers(request, timeout):
        sending.set()
        await asyncio.Event().wait()

    runner = RequestRunner(
        send=send_that_never_answers,
        lease_for=lambda route: lease,
        build_request=build_request,
        parse_response=parse_response,
    )
    model = get_model("gpt-4.1-mini")
    route = ModelRoute(
        model=model,
        sampling_params=SamplingParams(),
        weight=1.0,
        base_url="http://127.0.0.1:9/v1",
        api_key=Secret("sk-test"),
    )
    spec = CallSpec(spec_id=0, routes=(route,), max_attempts=1, request_timeout=30)
    item = WorkItem(key=0, conversation=Conversation().user("hi"), estimated_tokens=10, spec_id=0)

    task = asyncio.create_task(runner.run(item, spec))
    await sending.wait()
    assert core.stats()["in_use"] >= 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await lease.close()
    assert core.stats()["in_use"] == 0
