"""``Usage.reasoning_tokens`` and ``cache_write_1h_tokens`` filled as lm-deluge 0.0.168 fills
them, from recorded provider bodies (the fixtures of tests/providers) parsed by both."""

from __future__ import annotations

import copy
import json

import pytest
from lm_deluge.usage import Usage as OracleUsage

from deluge_ray.api_requests import parse_response
from deluge_ray.models import get_model

from ..providers import _bodies as bodies


def _chat():
    data = copy.deepcopy(bodies.CHAT_COMPLETION)
    data["usage"]["completion_tokens_details"]["reasoning_tokens"] = 32
    return data


def _anthropic():
    data = copy.deepcopy(bodies.ANTHROPIC_MESSAGE)
    data["usage"]["cache_creation"] = {
        "ephemeral_5m_input_tokens": 400,
        "ephemeral_1h_input_tokens": 600,
    }
    return data


CASES = {
    "openai-chat": ("o3", _chat, OracleUsage.from_openai_usage, {}),
    "openai-responses": (
        "gpt-5",
        lambda: bodies.RESPONSE,
        OracleUsage.from_openai_usage,
        {"use_responses_api": True},
    ),
    "anthropic": ("claude-4.5-sonnet", _anthropic, OracleUsage.from_anthropic_usage, {}),
    "gemini": (
        "gemini-2.5-flash",
        lambda: bodies.GEMINI_RESPONSE,
        OracleUsage.from_gemini_usage,
        {},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_reasoning_and_one_hour_cache_tokens_match_0_0_168(case):
    model_id, make, oracle_parse, options = CASES[case]
    data = make()
    ours = parse_response(get_model(model_id), 200, {}, json.dumps(data).encode(), **options)
    theirs = oracle_parse(data.get("usage") or data.get("usageMetadata"))
    assert ours.usage.reasoning_tokens == theirs.reasoning_tokens
    assert ours.usage.cache_write_1h_tokens == theirs.cache_write_1h_tokens
    assert ours.usage.output_tokens == theirs.output_tokens
    # Each case exercises a non-zero count, so a parser that drops it cannot pass.
    assert ours.usage.reasoning_tokens or ours.usage.cache_write_1h_tokens


def test_one_hour_cache_writes_cost_twice_the_input_price():
    sonnet = get_model("claude-4.5-sonnet")
    out = parse_response(sonnet, 200, {}, json.dumps(_anthropic()).encode())
    u = out.usage
    assert (u.cache_write_tokens, u.cache_write_1h_tokens) == (1000, 600)
    expected = 20 * 3 + 100 * 15 + 3000 * 0.3 + 400 * 3.75 + 600 * 3 * 2
    assert out.cost == pytest.approx(expected / 1e6)


def test_the_mock_reports_thinking_tokens_as_each_provider_does():
    import urllib.request

    from deluge_ray import Conversation, SamplingParams
    from deluge_ray._secrets import Secret
    from deluge_ray.api_requests import build_request
    from deluge_ray.mock import MockProvider, Reply

    thought = "Weigh the options: red is warm, blue is calm, so blue."
    with MockProvider() as mock:
        for model_id, options, base in (
            ("o3", {}, mock.openai_base_url),
            ("gpt-5", {"use_responses_api": True}, mock.openai_base_url),
            ("gemini-2.5-flash", {}, mock.gemini_base_url),
        ):
            model = get_model(model_id)
            mock.script(model.name, [Reply.thinking(thought, "Blue.")])
            spec = build_request(
                model,
                Conversation().user("Pick a colour."),
                SamplingParams(max_new_tokens=200),
                api_key=Secret("mock-key"),
                base_url=base,
                **options,
            )
            request = urllib.request.Request(
                spec.url, json.dumps(spec.json).encode(), {**spec.headers}, method="POST"
            )
            with urllib.request.urlopen(request, timeout=10) as answer:
                out = parse_response(model, answer.status, {}, answer.read(), **options)
            assert out.error is None, model_id
            assert 0 < out.usage.reasoning_tokens < out.usage.output_tokens, model_id
