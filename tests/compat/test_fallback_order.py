"""Fallback models are tried in lm-deluge 0.0.168's order.

The oracle's order comes from its own retry bookkeeping (``LLMClient._fallback_retry_context``
stepped by hand, no network); deluge_ray's from a real ``RequestRunner`` whose sends are
answered in-process with the same error on every model, its sleeps skipped.
"""

from __future__ import annotations

import asyncio
import json

import lm_deluge
import pytest
from lm_deluge.api_requests.context import RequestContext

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request, parse_response
from deluge_ray.config import SamplingParams
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._runner import RequestRunner
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem

PRIMARY = "gpt-4.1-mini"
FALLBACKS = ["gpt-4.1-nano", "gpt-4o-mini", "gpt-4o"]
# (status, body): a server error stays on the model; a spent quota switches models.
ERRORS = {
    "server-error": (500, {"error": {"message": "boom", "type": "server_error"}}),
    "quota": (429, {"error": {"message": "quota", "code": "insufficient_quota"}}),
}


def _oracle_order(max_attempts: int, switch: bool) -> list[str]:
    client = lm_deluge.LLMClient(
        PRIMARY, fallback_models=FALLBACKS, max_attempts=max_attempts, progress="manual"
    )
    context = RequestContext(
        task_id=0,
        model_name=PRIMARY,
        prompt=lm_deluge.Conversation().user("hi"),
        sampling_params=client.sampling_params[0],
        attempts_left=max_attempts,
    )
    context = client._initialize_fallback_chain(context)
    order = [context.model_name]
    while context.attempts_left > 1:  # 0.0.168 retries only while attempts are left
        context = client._fallback_retry_context(context, switch)
        if context is None:
            break
        order.append(context.model_name)
    return order


def _our_order(max_attempts: int, error: str) -> list[str]:
    status, body = ERRORS[error]
    by_wire_name = {get_model(m).name: m for m in [PRIMARY, *FALLBACKS]}
    order: list[str] = []

    async def send(request, timeout):
        order.append(by_wire_name[request.json["model"]])
        return status, {}, json.dumps(body).encode()

    async def no_sleep(seconds):
        return None

    runner = RequestRunner(
        send=send,
        lease_for=lambda route: None,
        build_request=build_request,
        parse_response=parse_response,
        sleep=no_sleep,
    )
    routes = tuple(
        ModelRoute(get_model(m), SamplingParams(), w, "http://127.0.0.1:9/v1", Secret("sk"))
        for m, w in [(PRIMARY, 1.0)] + [(m, 0.0) for m in FALLBACKS]
    )
    spec = CallSpec(spec_id=0, routes=routes, max_attempts=max_attempts, request_timeout=5)
    item = WorkItem(key=0, conversation=Conversation().user("hi"), estimated_tokens=5, spec_id=0)
    result = asyncio.run(runner.run(item, spec))
    assert result.response.is_error
    return order


@pytest.mark.parametrize("max_attempts", [2, 5, 7])
@pytest.mark.parametrize("error", list(ERRORS))
def test_fallbacks_are_tried_in_0_0_168s_order(max_attempts, error):
    ours = _our_order(max_attempts, error)
    assert ours == _oracle_order(max_attempts, switch=error == "quota")
    assert set(ours) == {PRIMARY, *FALLBACKS}  # every fallback gets its attempt
