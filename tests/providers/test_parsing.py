"""Parsing provider answers: content, usage, cost, finish reason, logprobs and errors."""

from __future__ import annotations

import json

import anthropic.types
import openai.types
import openai.types.chat
import openai.types.responses
import pytest

from deluge_ray.api_requests import (
    ErrorKind,
    parse_embedding_response,
    parse_response,
    to_api_response,
)
from deluge_ray.config import SamplingParams
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation, Text, Thinking, ToolCall

from . import _bodies as bodies

MINI = get_model("gpt-4.1-mini")
GPT5 = get_model("gpt-5")
SONNET = get_model("claude-4.5-sonnet")
FLASH = get_model("gemini-2.5-flash")


def raw(data) -> bytes:
    return json.dumps(data).encode()


def test_fixtures_match_the_official_sdk_types() -> None:
    openai.types.chat.ChatCompletion.model_validate(bodies.CHAT_COMPLETION)
    openai.types.responses.Response.model_validate(bodies.RESPONSE)
    openai.types.CreateEmbeddingResponse.model_validate(bodies.EMBEDDINGS)
    anthropic.types.Message.model_validate(bodies.ANTHROPIC_MESSAGE)


def test_chat_completion_success() -> None:
    out = parse_response(MINI, 200, {}, raw(bodies.CHAT_COMPLETION))
    assert out.error is None and out.response_id == "chatcmpl-abc123"
    assert out.content.role == "assistant"
    assert out.content.completion == "Paris is sunny."
    calls = out.content.tool_calls
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "get_weather", {"city": "Paris"}),
        ("call_b", "get_time", {}),  # broken JSON from the model is kept, not fatal
    ]
    assert calls[1].raw == {"arguments": '{"zone": "CET"'}
    assert out.finish_reason == "tool_calls"
    assert out.logprobs[0]["token"] == "Paris"
    # prompt_tokens includes the 1024 cached ones; Usage counts them separately.
    assert (out.usage.input_tokens, out.usage.cache_read_tokens, out.usage.output_tokens) == (
        176,
        1024,
        50,
    )
    assert out.usage.total_tokens == 1250
    assert out.cost == pytest.approx((176 * 0.4 + 1024 * 0.1 + 50 * 1.6) / 1e6)
    assert out.raw["id"] == "chatcmpl-abc123"


def test_responses_success_keeps_reasoning_for_replay() -> None:
    out = parse_response(GPT5, 200, {}, raw(bodies.RESPONSE), use_responses_api=True)
    assert out.error is None and out.response_id == "resp_123"
    thinking, text, call = out.content.parts
    assert isinstance(thinking, Thinking) and thinking.content == "Look up the weather."
    assert thinking.raw["id"] == "rs_1" and thinking.raw["encrypted_content"] == "gAAAAenc"
    assert text == Text("Checking.")
    assert isinstance(call, ToolCall) and (call.id, call.arguments) == ("call_w", {"city": "Oslo"})
    assert out.finish_reason == "tool_calls" and out.thinking == "Look up the weather."
    u = out.usage
    assert (u.input_tokens, u.cache_read_tokens, u.cache_write_tokens, u.output_tokens) == (
        350,
        100,
        50,
        80,
    )
    # The parsed reasoning replays as the same reasoning item on the next turn.
    conv = Conversation().user("Weather?").add(out.content)
    items = conv.to_openai_responses()["input"]
    assert {"type": "reasoning", "id": "rs_1"}.items() <= items[1].items()


def test_responses_background_states() -> None:
    queued = parse_response(GPT5, 200, {}, raw(bodies.RESPONSE_QUEUED), use_responses_api=True)
    assert (queued.status, queued.response_id, queued.error, queued.content) == (
        "queued",
        "resp_bg",
        None,
        None,
    )
    failed = parse_response(GPT5, 200, {}, raw(bodies.RESPONSE_FAILED), use_responses_api=True)
    assert failed.error.kind is ErrorKind.RETRY and "failed to generate" in failed.error.message


def test_anthropic_success_with_thinking_cache_and_parallel_calls() -> None:
    out = parse_response(SONNET, 200, {}, raw(bodies.ANTHROPIC_MESSAGE))
    parts = out.content.parts
    assert parts[0] == Thinking("The user wants weather.", "EqQBCkYI")
    assert parts[1].raw == {"type": "redacted_thinking", "data": "EmwKAhgB"}
    assert out.content.completion == "Let me check."
    assert [c.id for c in out.content.tool_calls] == ["toolu_1", "toolu_2"]
    assert out.finish_reason == "tool_use" and out.thinking == "The user wants weather."
    u = out.usage
    assert (u.input_tokens, u.output_tokens, u.cache_read_tokens, u.cache_write_tokens) == (
        20,
        100,
        3000,
        1000,
    )
    assert u.has_cache_hit
    assert out.cost == pytest.approx((20 * 3 + 100 * 15 + 3000 * 0.3 + 1000 * 3.75) / 1e6)
    # Thinking replays with its signature.
    _, messages = Conversation().user("q").add(out.content).to_anthropic()
    assert messages[1]["content"][0] == {
        "type": "thinking",
        "thinking": "The user wants weather.",
        "signature": "EqQBCkYI",
    }


def test_gemini_success_with_thoughts_and_function_calls() -> None:
    out = parse_response(FLASH, 200, {}, raw(bodies.GEMINI_RESPONSE))
    thought, text, call = out.content.parts
    assert isinstance(thought, Thinking) and thought.raw == {"thoughtSignature": "c2ln"}
    assert text == Text("It is sunny in Lima.")
    assert (call.name, call.arguments, call.raw) == (
        "get_weather",
        {"city": "Lima"},
        {"thoughtSignature": "Zm4="},
    )
    assert call.id  # Gemini gives no id; one is made up so results can refer to it
    assert out.finish_reason == "STOP" and out.response_id == "gem-resp-1"
    # thinking tokens are billed as output; cached tokens are part of promptTokenCount
    assert (out.usage.input_tokens, out.usage.cache_read_tokens, out.usage.output_tokens) == (
        100,
        300,
        100,
    )
    assert out.cost == pytest.approx((100 * 0.3 + 300 * 0.03 + 100 * 2.5) / 1e6)


def test_gemini_blocked_prompt_gives_up() -> None:
    out = parse_response(FLASH, 200, {}, raw(bodies.GEMINI_BLOCKED))
    assert out.error.kind is ErrorKind.GIVE_UP and "SAFETY" in out.error.message


@pytest.mark.parametrize(
    ("model", "status", "headers", "body", "kind", "delay", "needle"),
    [
        (
            MINI,
            429,
            {"Retry-After-Ms": "1500"},
            bodies.OPENAI_RATE_LIMIT,
            ErrorKind.RATE_LIMITED,
            1.5,
            "TPM",
        ),
        (
            MINI,
            429,
            {"retry-after": "7"},
            bodies.OPENAI_RATE_LIMIT,
            ErrorKind.RATE_LIMITED,
            7.0,
            "Rate limit",
        ),
        (MINI, 429, {}, bodies.OPENAI_QUOTA, ErrorKind.RETRY_OTHER_MODEL, None, "quota"),
        (FLASH, 429, {}, bodies.GEMINI_429, ErrorKind.RATE_LIMITED, 31.0, "exhausted"),
        (SONNET, 529, {}, bodies.ANTHROPIC_OVERLOADED, ErrorKind.RETRY, None, "Overloaded"),
        (MINI, 500, {}, {"error": {"message": "internal"}}, ErrorKind.RETRY, None, "internal"),
        (MINI, 503, {}, None, ErrorKind.RETRY, None, "HTTP 503"),
        (MINI, 408, {}, None, ErrorKind.RETRY, None, "HTTP 408"),
        (
            MINI,
            401,
            {},
            bodies.OPENAI_BAD_KEY,
            ErrorKind.RETRY_OTHER_MODEL,
            None,
            "Incorrect API key",
        ),
        (
            SONNET,
            403,
            {},
            {"type": "error", "error": {"type": "permission_error", "message": "no access"}},
            ErrorKind.RETRY_OTHER_MODEL,
            None,
            "no access",
        ),
        (
            MINI,
            404,
            {},
            {"error": {"message": "The model does not exist"}},
            ErrorKind.RETRY_OTHER_MODEL,
            None,
            "does not exist",
        ),
        (MINI, 400, {}, bodies.OPENAI_CONTEXT, ErrorKind.GIVE_UP, None, "context window"),
        (SONNET, 400, {}, bodies.ANTHROPIC_TOO_LONG, ErrorKind.GIVE_UP, None, "prompt is too long"),
        (
            MINI,
            422,
            {},
            {"error": {"message": "bad temperature"}},
            ErrorKind.GIVE_UP,
            None,
            "bad temperature",
        ),
    ],
)
def test_error_classification(model, status, headers, body, kind, delay, needle) -> None:
    payload = raw(body) if body is not None else b"<html>Service Unavailable</html>"
    out = parse_response(model, status, headers, payload)
    assert out.content is None
    assert out.error.kind is kind
    assert out.error.retry_after == delay
    assert out.error.status == status
    assert needle in out.error.message


@pytest.mark.parametrize("model", [MINI, SONNET, FLASH])
def test_malformed_success_body_is_retried(model) -> None:
    for body in (b'{"choices": [', b"", b'{"unexpected": true}'):
        out = parse_response(model, 200, {}, body)
        assert out.error.kind is ErrorKind.RETRY


def test_to_api_response_sets_retry_flags() -> None:
    conv = Conversation().user("hi")
    ok = to_api_response(
        parse_response(SONNET, 200, {}, raw(bodies.ANTHROPIC_MESSAGE)),
        id=3,
        model=SONNET,
        prompt=conv,
        sampling_params=SamplingParams(),
        status_code=200,
    )
    assert (ok.is_error, ok.completion, ok.model_external, ok.cache_hit) == (
        False,
        "Let me check.",
        SONNET.name,
        True,
    )
    assert ok.input_tokens == 20 and ok.cache_write_tokens == 1000
    bad = to_api_response(
        parse_response(MINI, 401, {}, raw(bodies.OPENAI_BAD_KEY)),
        id=4,
        model=MINI,
        prompt=conv,
        sampling_params=SamplingParams(),
        status_code=401,
    )
    assert bad.is_error and bad.retry_with_different_model and bad.give_up_if_no_other_models
    assert "Incorrect API key" in bad.error_message


def test_embeddings_parse_in_input_order() -> None:
    model = get_model("text-embedding-3-small")
    out = parse_embedding_response(model, 200, {}, raw(bodies.EMBEDDINGS))
    assert out.embeddings == [[0.1, 0.2], [0.3, 0.4]]
    assert out.usage.input_tokens == 8 and out.cost == pytest.approx(8 * 0.02 / 1e6)
    err = parse_embedding_response(model, 429, {"retry-after": "2"}, raw(bodies.OPENAI_RATE_LIMIT))
    assert err.error.kind is ErrorKind.RATE_LIMITED and err.error.retry_after == 2.0
