"""RequestRunner's retry table, without Ray and without sleeping.

Each test scripts the HTTP answers at the runner's ``send`` seam (real request building and
real parsing around it) and records the waits the runner asks for instead of waiting.
"""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request, parse_response
from deluge_ray.config import SamplingParams
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.transport._retry import backoff
from deluge_ray.transport._runner import RequestRunner
from deluge_ray.transport._work import CallSpec, ModelRoute, WorkItem, WorkResult

MINI = get_model("gpt-4.1-mini")
NANO = get_model("gpt-4.1-nano")
BASE_URL = "http://127.0.0.1:9/v1"
KEY = "sk-test-secret-key"
SEED = 11


def completion(text: str = "hello") -> bytes:
    """A minimal OpenAI chat completion body."""
    return json.dumps(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 0,
            "model": "gpt-4.1-mini",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 2, "total_tokens": 12},
        }
    ).encode()


def error_body(message: str, code: str | None = None) -> bytes:
    return json.dumps({"error": {"message": message, "type": "x", "code": code}}).encode()


OK = (200, {}, completion())


class Script:
    """A ``send`` that plays scripted replies (or raises scripted exceptions) in order."""

    def __init__(self, *replies) -> None:
        self.replies = list(replies)
        self.models: list[str] = []  # the model each request was sent to, in order

    async def __call__(self, request, timeout):
        self.models.append(request.json["model"])
        reply = self.replies.pop(0)
        if isinstance(reply, BaseException):
            raise reply
        return reply


def route(model=MINI, weight: float = 1.0) -> ModelRoute:
    return ModelRoute(
        model=model,
        sampling_params=SamplingParams(),
        weight=weight,
        base_url=BASE_URL,
        api_key=Secret(KEY),
    )


async def run(script: Script, *routes: ModelRoute, max_attempts: int = 5):
    """Serve one item; return the result, the waits asked for, and the runner."""
    waits: list[float] = []

    async def record(seconds: float) -> None:
        waits.append(seconds)

    runner = RequestRunner(
        send=script,
        lease_for=lambda r: None,
        build_request=build_request,
        parse_response=parse_response,
        rng=random.Random(SEED),
        sleep=record,
    )
    spec = CallSpec(
        spec_id=0, routes=routes or (route(),), max_attempts=max_attempts, request_timeout=7
    )
    item = WorkItem(key=4, conversation=Conversation().user("hi"), estimated_tokens=10, spec_id=0)
    result: WorkResult = await runner.run(item, spec)
    return result, waits, runner


def jittered(n: int) -> list[float]:
    """The first ``n`` computed backoffs the runner's seeded rng gives (one route: no draws)."""
    rng = random.Random(SEED)
    return [backoff(attempt, None, rng) for attempt in range(1, n + 1)]


async def test_429_waits_the_servers_retry_after_then_succeeds() -> None:
    script = Script((429, {"retry-after-ms": "1500"}, error_body("slow down")), OK)
    result, waits, _ = await run(script)
    assert waits == [1.5]
    assert (result.requests_sent, result.retries, result.rate_limited) == (2, 1, 1)
    resp = result.response
    assert not resp.is_error and resp.completion == "hello" and resp.status_code == 200
    assert resp.model_internal == MINI.id and resp.usage.output_tokens == 2
    assert resp.cost is not None and resp.cost > 0


async def test_a_servers_retry_after_is_capped() -> None:
    script = Script((429, {"retry-after": "3600"}, error_body("slow down")), OK)
    _, waits, _ = await run(script)
    assert waits == [30.0]


async def test_5xx_backs_off_with_the_jittered_policy() -> None:
    script = Script((503, {}, error_body("busy")), (500, {}, error_body("oops")), OK)
    result, waits, _ = await run(script)
    assert waits == jittered(2)
    assert 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0
    assert (result.requests_sent, result.retries, result.rate_limited) == (3, 2, 0)
    assert not result.response.is_error


async def test_a_reset_connection_is_retried() -> None:
    script = Script(aiohttp.ClientConnectionError("Connection reset by peer"), OK)
    result, waits, _ = await run(script)
    assert waits == jittered(1)
    assert result.requests_sent == 2 and not result.response.is_error


async def test_a_malformed_success_body_is_retried() -> None:
    script = Script((200, {}, b'{"choices": ['), OK)
    result, waits, _ = await run(script)
    assert waits == jittered(1)
    assert result.requests_sent == 2 and result.response.completion == "hello"


async def test_a_timeout_is_retried_and_named_when_it_is_the_last_word() -> None:
    script = Script(asyncio.TimeoutError(), asyncio.TimeoutError())
    result, waits, _ = await run(script, max_attempts=2)
    assert waits == jittered(1)  # no wait after the last attempt
    resp = result.response
    assert resp.is_error and "request_timeout=7s" in resp.error_message
    assert "gave up after 2 attempts" in resp.error_message


async def test_a_bad_request_gives_up_at_once() -> None:
    script = Script((400, {}, error_body("unsupported parameter: foo")))
    result, waits, _ = await run(script, route(MINI), route(NANO))
    assert waits == [] and script.models == [MINI.name]
    resp = result.response
    assert resp.is_error and resp.status_code == 400
    assert "unsupported parameter: foo" in resp.error_message
    assert not resp.retry_with_different_model and not resp.give_up_if_no_other_models


async def test_out_of_quota_moves_to_the_other_model_without_waiting() -> None:
    quota = (429, {}, error_body("You exceeded your current quota", "insufficient_quota"))
    script = Script(quota, OK)
    result, waits, runner = await run(script, route(MINI, 1.0), route(NANO, 0.0))
    assert waits == [] and script.models == [MINI.name, NANO.name]
    assert result.response.model_internal == NANO.id and not result.response.is_error
    assert runner.blocklisted == set() and result.blocklisted_models == ()


async def test_401_403_404_blocklist_the_model_and_fall_back() -> None:
    for status in (401, 403, 404):
        script = Script((status, {}, error_body("no")), OK)
        result, waits, runner = await run(script, route(MINI, 1.0), route(NANO, 0.0))
        assert waits == [] and script.models == [MINI.name, NANO.name]
        assert runner.blocklisted == {MINI.id} and result.blocklisted_models == (MINI.id,)
        assert result.response.model_internal == NANO.id and not result.response.is_error


async def test_a_blocklisted_model_gets_no_more_requests() -> None:
    script = Script((401, {}, error_body("bad key")), OK, OK)
    _, _, runner = await run(script, route(MINI, 1.0), route(NANO, 0.0))
    spec = CallSpec(
        spec_id=0, routes=(route(MINI, 1.0), route(NANO, 0.0)), max_attempts=3, request_timeout=7
    )
    item = WorkItem(
        key=5, conversation=Conversation().user("again"), estimated_tokens=10, spec_id=0
    )
    later = await runner.run(item, spec)
    assert script.models == [MINI.name, NANO.name, NANO.name]
    assert later.requests_sent == 1 and later.response.model_internal == NANO.id


async def test_a_404_names_the_url_called_and_never_the_key() -> None:
    script = Script((404, {}, error_body("The model does not exist")))
    result, waits, _ = await run(script)
    resp = result.response
    assert waits == [] and resp.is_error and resp.status_code == 404
    assert f"[called {BASE_URL}/chat/completions]" in resp.error_message
    assert KEY not in resp.error_message and KEY not in repr(resp)
    assert resp.retry_with_different_model and resp.give_up_if_no_other_models


async def test_max_attempts_exhausted_reports_the_last_error() -> None:
    script = Script(*[(500, {}, error_body("down for maintenance"))] * 3)
    result, waits, _ = await run(script, max_attempts=3)
    assert waits == jittered(2)
    assert (result.requests_sent, result.retries) == (3, 2)
    resp = result.response
    assert resp.is_error and resp.status_code == 500
    assert "down for maintenance" in resp.error_message
    assert "gave up after 3 attempts" in resp.error_message
    assert not resp.give_up_if_no_other_models
