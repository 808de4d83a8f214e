"""OpenAI chat completions: request bodies field by field, validated against the OpenAPI spec."""

from __future__ import annotations

import pytest

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError
from deluge_ray.models import get_model, register_model
from deluge_ray.tool import MCPServer
from tests.support.openapi import validate

from . import _cases as cases

MINI = get_model("gpt-4.1-mini")
O3 = get_model("o3")


def body(conv=None, sp=None, model=MINI, **kw):
    spec = build_request(
        model, conv or cases.plain(), sp or SamplingParams(), api_key=Secret("sk-test"), **kw
    )
    validate("CreateChatCompletionRequest", spec.json)
    return spec


@pytest.mark.parametrize("name", sorted(cases.every_case()))
@pytest.mark.parametrize("model", ["gpt-4.1-mini", "o3"])
def test_every_conversation_shape_validates(name: str, model: str) -> None:
    conv = cases.every_case()[name]
    spec = body(conv, model=get_model(model), tools=[cases.WEATHER, cases.TIME])
    assert spec.json["messages"] == conv.to_openai()


def test_plain_text_url_headers_and_sampling() -> None:
    spec = body(sp=SamplingParams(temperature=0.3, top_p=0.9, max_new_tokens=99))
    assert spec.method == "POST"
    assert spec.url == "https://api.openai.com/v1/chat/completions"
    assert spec.headers["Authorization"] == "Bearer sk-test"
    assert spec.json == {
        "model": "gpt-4.1-mini-2025-04-14",
        "messages": [{"role": "user", "content": "Hello there"}],
        "max_completion_tokens": 99,
        "temperature": 0.3,
        "top_p": 0.9,
    }
    assert "sk-test" not in repr(spec) and "sk-test" not in str(spec)


def test_system_and_multi_turn_messages() -> None:
    msgs = body(cases.multi_turn()).json["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant", "user"]
    assert msgs[0]["content"] == "Be terse."


def test_image_and_file_parts() -> None:
    image = body(cases.with_image()).json["messages"][0]["content"]
    assert image[1]["type"] == "image_url"
    assert image[1]["image_url"]["url"].startswith("data:image/png;base64,")
    file = body(cases.with_file()).json["messages"][0]["content"]
    assert file[1]["type"] == "file"
    assert file[1]["file"]["filename"] == "r.pdf"
    assert file[1]["file"]["file_data"].startswith("data:application/pdf;base64,")


def test_strict_tools_follow_sampling_params() -> None:
    strict = body(tools=[cases.WEATHER]).json["tools"][0]
    assert strict["type"] == "function"
    assert strict["function"]["strict"] is True
    assert strict["function"]["parameters"]["additionalProperties"] is False
    loose = body(sp=SamplingParams(strict_tools=False), tools=[cases.WEATHER]).json["tools"][0]
    assert loose["function"]["strict"] is False


def test_parallel_tool_calls_and_results() -> None:
    msgs = body(cases.parallel_tool_results(), tools=[cases.WEATHER, cases.TIME]).json["messages"]
    calls = msgs[1]["tool_calls"]
    assert [c["id"] for c in calls] == ["call_1", "call_2"]
    assert calls[0]["function"] == {"name": "get_weather", "arguments": '{"city": "Paris"}'}
    tool_msgs = [m for m in msgs if m["role"] == "tool"]
    assert [(m["tool_call_id"], m["content"]) for m in tool_msgs] == [
        ("call_1", "sunny"),
        ("call_2", '{"time": "12:00"}'),
    ]


def test_thinking_is_not_replayed_to_chat_completions() -> None:
    msgs = body(cases.thinking_replay(), tools=[cases.WEATHER]).json["messages"]
    assert "I should call" not in str(msgs)
    assert msgs[1]["tool_calls"][0]["id"] == "call_1"


def test_json_mode_and_output_schema() -> None:
    assert body(sp=SamplingParams(json_mode=True)).json["response_format"] == {
        "type": "json_object"
    }
    for schema in (cases.Answer, cases.ANSWER_SCHEMA):
        fmt = body(sp=SamplingParams(json_mode=True), output_schema=schema).json["response_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["json_schema"]["name"] == "Answer"
        assert fmt["json_schema"]["strict"] is True
        assert fmt["json_schema"]["schema"]["additionalProperties"] is False
        assert fmt["json_schema"]["schema"]["required"] == ["city", "temperature_c"]


def test_reasoning_effort_on_reasoning_models_only() -> None:
    json = body(model=O3, sp=SamplingParams(reasoning_effort="high", temperature=0.2)).json
    assert json["reasoning_effort"] == "high"
    # o-series accept only temperature/top_p 1.0; GPT-5.2+ none at all while reasoning.
    assert (json["temperature"], json["top_p"]) == (1.0, 1.0)
    json = body(model=get_model("gpt-5.2"), sp=SamplingParams(reasoning_effort="high")).json
    assert "temperature" not in json and "top_p" not in json
    with pytest.warns(UserWarning, match="not a reasoning model"):
        assert "reasoning_effort" not in body(sp=SamplingParams(reasoning_effort="low")).json


def test_logprobs_service_tier_extra_body_and_headers() -> None:
    spec = body(
        sp=SamplingParams(logprobs=True, top_logprobs=5),
        service_tier="flex",
        extra_headers={"OpenAI-Organization": "org-1"},
        extra_body={"seed": 7, "metadata": {"job": "x"}},
    )
    assert spec.json["logprobs"] is True and spec.json["top_logprobs"] == 5
    assert spec.json["service_tier"] == "flex"
    assert spec.json["seed"] == 7 and spec.json["metadata"] == {"job": "x"}
    assert spec.headers["OpenAI-Organization"] == "org-1"


def test_extra_body_deep_merges_into_nested_fields() -> None:
    spec = body(
        sp=SamplingParams(json_mode=True),
        output_schema=cases.ANSWER_SCHEMA,
        extra_body={"response_format": {"json_schema": {"description": "d"}}},
    )
    js = spec.json["response_format"]["json_schema"]
    assert js["description"] == "d" and js["name"] == "Answer"


def test_keyless_server_and_base_url_override(monkeypatch) -> None:
    local = register_model(
        "test-vllm-chat",
        name="llama",
        provider="vllm",
        base_url="http://localhost:8000/v1",
        api_key_env_var=None,
    )
    spec = build_request(local, cases.plain(), SamplingParams(), api_key=None)
    assert spec.url == "http://localhost:8000/v1/chat/completions"
    assert "Authorization" not in spec.headers
    monkeypatch.setenv("OPENAI_BASE_URL", "http://mock:1/v1")
    assert body().url == "http://mock:1/v1/chat/completions"
    assert body(base_url="http://given/v1").url == "http://given/v1/chat/completions"


def test_background_and_mcp_servers_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="use_responses_api=True"):
        body(background=True)
    with pytest.raises(ConfigurationError, match="no native MCP support"):
        body(tools=[MCPServer(name="docs", url="https://mcp.example.com")])
