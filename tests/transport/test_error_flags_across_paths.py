"""One provider error, one set of flags: the caller's runner, streaming and batch jobs agree.

``give_up_if_no_other_models`` follows lm-deluge's rule (401/403/404 only) and
``retry_with_different_model`` follows the error's kind, on every path, against the real
mock provider.
"""

from __future__ import annotations

import pytest

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import APIResponse
from deluge_ray.api_requests.streaming import stream_chat
from deluge_ray.config import SamplingParams
from deluge_ray.mock._validate import MockHTTPError
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._batch_jobs import submit_batch_job, wait_for_batch_job
from deluge_ray.transport._session import ProviderTransport
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem

MODEL = "gpt-4.1-mini"


def always(error: MockHTTPError):
    def rule(view):
        raise error

    return rule


def flags(response: APIResponse) -> tuple:
    return (
        response.is_error,
        response.status_code,
        response.retry_with_different_model,
        response.give_up_if_no_other_models,
    )


async def through_the_runner() -> APIResponse:
    model = get_model(MODEL)
    route = ModelRoute(
        model=model,
        sampling_params=SamplingParams(),
        weight=1.0,
        base_url=model.resolved_base_url(),
        api_key=Secret("sk-mock"),
    )
    spec = CallSpec(spec_id=0, routes=(route,), max_attempts=3, request_timeout=10)
    item = WorkItem(key=0, conversation=Conversation().user("hi"), estimated_tokens=10, spec_id=0)
    transport = ProviderTransport("flags-test")
    try:
        return (await transport.runner().run(item, spec)).response
    finally:
        await transport.close()


async def through_streaming() -> APIResponse:
    *_, final = [item async for item in stream_chat(MODEL, "hi")]
    return final


async def through_a_batch_job() -> APIResponse:
    ids = await submit_batch_job(MODEL, ["hi"])
    (result,) = await wait_for_batch_job(ids, "openai", poll_interval=0.01, show_progress=False)
    return result


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (400, (True, 400, False, False)),  # the request is wrong: no flag
        (404, (True, 404, True, True)),  # the model is unusable: try another, else give up
        (401, (True, 401, True, True)),
    ],
)
async def test_the_same_error_is_flagged_the_same_on_every_path(mock, status, expected):
    mock.script("*", always(MockHTTPError(status, f"scripted {status}")))
    runner, streaming = await through_the_runner(), await through_streaming()
    seen = {
        "runner": flags(runner),
        "streaming": flags(streaming),
        "batch": flags(await through_a_batch_job()),
    }
    assert seen == dict.fromkeys(seen, expected)
    # A wrong base URL is obvious: a 404 names the address that was called.
    for response in (runner, streaming):
        named = f"[called {mock.openai_base_url}/chat/completions]" in response.error_message
        assert named == (status == 404)
