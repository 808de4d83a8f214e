"""stream_chat against the mock: deltas, tool calls, thinking, usage and cost, errors."""

from __future__ import annotations

import pytest

from deluge_ray.api_requests import APIResponse
from deluge_ray.api_requests.streaming import build_stream_request, stream_chat
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Faults, Reply
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation
from deluge_ray.tool import Tool

MODELS = ["gpt-4.1-mini", "claude-4.5-haiku", "gemini-2.5-flash"]
ANSWER = "one two three four five six seven eight nine ten"


async def collect(model: str, prompt, **kwargs) -> tuple[list[str], APIResponse]:
    items = [item async for item in stream_chat(model, prompt, **kwargs)]
    *deltas, final = items
    assert all(isinstance(d, str) for d in deltas)
    assert isinstance(final, APIResponse)
    return deltas, final


@pytest.mark.parametrize("model", MODELS)
async def test_text_streams_in_pieces_and_ends_with_usage_and_cost(mock, model):
    mock.script("*", [ANSWER])
    deltas, final = await collect(model, "Count to ten")
    assert len(deltas) > 1, "the answer should arrive in several deltas"
    assert "".join(deltas) == ANSWER == final.completion
    assert not final.is_error and final.status_code == 200
    assert final.input_tokens > 0 and final.output_tokens > 0
    assert final.cost is not None and final.cost > 0
    assert mock.stats()["requests"] == 1


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@pytest.mark.parametrize("model", MODELS)
async def test_tool_call_deltas_are_reassembled(mock, model):
    mock.script("*", [Reply.tool_call("add", {"a": 2, "b": 40})])
    deltas, final = await collect(model, "add 2 and 40", tools=[Tool.from_function(add)])
    assert deltas == []
    (call,) = final.content.tool_calls
    assert (call.name, call.arguments) == ("add", {"a": 2, "b": 40})


@pytest.mark.parametrize("model", ["claude-4.5-sonnet", "gemini-2.5-pro"])
async def test_thinking_is_kept_but_not_yielded(mock, model):
    mock.script("*", [Reply.thinking("let me think about it", "forty-two")])
    sp = SamplingParams(reasoning_effort="low")
    deltas, final = await collect(model, "answer?", sampling_params=sp)
    assert "".join(deltas) == "forty-two" == final.completion
    assert final.thinking == "let me think about it"
    if model.startswith("claude"):
        # The signature must survive so the thinking block can be replayed next turn.
        assert final.content.thinking_parts[0].signature


async def test_provider_error_ends_the_stream_with_an_error_response(mock):
    mock.set_limits(rpm=1, burst_seconds=1.0)
    await collect("gpt-4.1-mini", "first")
    deltas, final = await collect("gpt-4.1-mini", "second")
    assert deltas == []
    assert final.is_error and final.status_code == 429
    assert "Rate limit" in final.error_message


async def test_truncated_stream_is_an_error_not_a_partial_success(mock):
    mock._core.config.faults = Faults(truncated_stream=1.0)
    mock.script("*", [ANSWER])
    _, final = await collect("claude-4.5-haiku", "Count")
    assert final.is_error
    assert "truncated" in final.error_message or "Stream failed" in final.error_message


async def test_gate_is_asked_for_capacity_and_told_the_outcome(mock):
    class Gate:
        def __init__(self):
            self.acquired, self.reports = [], []

        async def acquire(self, tokens):
            self.acquired.append(tokens)

        def report(self, **kw):
            self.reports.append(kw)

    gate = Gate()
    _, final = await collect("gpt-4.1-mini", "hi", gate=gate)
    assert len(gate.acquired) == 1 and gate.acquired[0] > 0
    (report,) = gate.reports
    assert report["status"] == 200 and report["used"] == final.usage.total_tokens


def test_a_model_that_cannot_stream_is_a_clear_error():
    with pytest.raises(ConfigurationError, match="cannot stream"):
        build_stream_request(
            get_model("text-embedding-3-small"),
            Conversation().user("x"),
            SamplingParams(),
            api_key=None,
        )


async def test_stream_chat_rejects_unstreamable_model_before_any_request(mock):
    with pytest.raises(ConfigurationError, match="cannot stream"):
        await collect("text-embedding-3-small", "x")
    assert mock.stats()["requests"] == 0


def test_stream_requests_use_the_registry_base_url(monkeypatch):
    monkeypatch.setenv("GEMINI_BASE_URL", "http://127.0.0.1:9/v1beta")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    conv, sp = Conversation().user("x"), SamplingParams()
    gem = build_stream_request(get_model("gemini-2.5-flash"), conv, sp, api_key=None)
    assert (
        gem.url == "http://127.0.0.1:9/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse"
    )
    oa = build_stream_request(get_model("gpt-4.1-mini"), conv, sp, api_key="sk-secret")
    assert oa.json["stream"] is True and oa.json["stream_options"] == {"include_usage": True}
    assert "sk-secret" not in repr(oa)
