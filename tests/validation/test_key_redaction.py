"""A provider error body that echoes the API key never carries it further: not into
``error_message``, reprs, ``to_dict()`` or exceptions. The mock is scripted to answer with
an error body quoting the very key the request was sent with."""

from __future__ import annotations

import json
import random

import aiohttp
import pytest

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request, parse_response
from deluge_ray.api_requests._errors import REDACTED, credentials_in, redact_secrets
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ProviderError
from deluge_ray.mock._validate import MockHTTPError
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._http import raise_for_error, send_with_retries
from deluge_ray.transport._runner import RequestRunner
from deluge_ray.transport._session import ProviderTransport
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem

KEY = "sk-echo-DO-NOT-LEAK-0123456789"


def echo_key(status: int):
    """A script rule: answer ``status`` with an error body that quotes ``KEY``."""

    def rule(view):
        raise MockHTTPError(status, f"Incorrect API key provided: {KEY}. Check it.")

    return rule


async def no_wait(seconds: float) -> None:
    return None


def test_redact_replaces_every_occurrence_of_each_key():
    text = f"{KEY} and again {KEY}; other sk-other-key-123456"
    out = redact_secrets(text, [Secret(KEY), "sk-other-key-123456", None])
    assert out == f"{REDACTED} and again {REDACTED}; other {REDACTED}"


def test_placeholder_keys_too_short_to_be_secret_are_left_alone():
    # A keyless mock's "k" must not turn every k of a message into the marker.
    assert redact_secrets("bad request: keep going", [Secret("k")]) == "bad request: keep going"


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": f"Bearer {KEY}"},
        {"x-api-key": KEY, "anthropic-version": "2023-06-01"},
        {"x-goog-api-key": KEY},
    ],
)
def test_credentials_are_read_from_each_providers_auth_header(headers):
    assert credentials_in(headers) == [KEY]


@pytest.mark.parametrize("model_id", ["gpt-4.1-mini", "claude-4.5-haiku", "gemini-2.5-flash"])
@pytest.mark.parametrize("status", [400, 401])
async def test_runner_error_response_never_holds_the_key(mock, model_id, status):
    model = get_model(model_id)
    mock.script("*", echo_key(status))
    transport = ProviderTransport("redaction-test")
    runner = RequestRunner(
        send=transport.send,
        lease_for=transport.lease_for,
        build_request=build_request,
        parse_response=parse_response,
        rng=random.Random(1),
        sleep=no_wait,
    )
    route = ModelRoute(
        model=model,
        sampling_params=SamplingParams(),
        weight=1.0,
        base_url=model.resolved_base_url(),
        api_key=Secret(KEY),
    )
    spec = CallSpec(spec_id=0, routes=(route,), max_attempts=2, request_timeout=10)
    item = WorkItem(key=0, conversation=Conversation().user("hi"), estimated_tokens=10, spec_id=0)
    try:
        result = await runner.run(item, spec)
    finally:
        await transport.close()
    response = result.response
    assert response.is_error and response.status_code == status
    assert mock.stats()["requests"] == 1  # the key did go out, once
    assert f"Incorrect API key provided: {REDACTED}. Check it." in response.error_message
    for shown in (response.error_message, repr(response), json.dumps(response.to_dict())):
        assert KEY not in shown


async def test_driver_side_sends_raise_without_the_key(mock):
    mock.script("*", echo_key(401))
    async with aiohttp.ClientSession() as session:
        result = await send_with_retries(
            session,
            "POST",
            f"{mock.openai_base_url}/chat/completions",
            headers={"authorization": f"Bearer {KEY}"},
            json={"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "hi"}]},
            sleep=no_wait,
        )
    assert KEY in result.body.decode()  # the provider really did echo it
    with pytest.raises(ProviderError) as raised:
        raise_for_error(result, "listing files")
    assert REDACTED in str(raised.value) and KEY not in str(raised.value)
    assert KEY not in repr(result.error)


async def test_streamed_error_response_never_holds_the_key(mock, monkeypatch):
    from deluge_ray.api_requests.streaming import stream_chat

    monkeypatch.setenv("OPENAI_API_KEY", KEY)  # what the streaming path sends
    mock.script("*", echo_key(401))
    events = [e async for e in stream_chat("gpt-4.1-mini", "hi", request_timeout=10)]
    response = events[-1]
    assert response.is_error and response.status_code == 401
    assert f"Incorrect API key provided: {REDACTED}. Check it." in response.error_message
    for shown in (response.error_message, repr(response), json.dumps(response.to_dict())):
        assert KEY not in shown
