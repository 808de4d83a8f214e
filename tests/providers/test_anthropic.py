"""Anthropic messages: request bodies field by field, shape-checked with the SDK's types."""

from __future__ import annotations

import pytest
from anthropic.types.beta import message_create_params
from pydantic import TypeAdapter

from deluge_ray._constants import ANTHROPIC_VERSION
from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request
from deluge_ray.api_requests.anthropic import (
    BETA_EFFORT,
    BETA_FILES,
    BETA_MCP,
    BETA_STRUCTURED_OUTPUTS,
)
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation, File, Message
from deluge_ray.tool import MCPServer
from deluge_ray.transport._uploads import ANTHROPIC_FILES_BETA

from . import _cases as cases

SONNET = get_model("claude-4.5-sonnet")
OPUS = get_model("claude-4.5-opus")
HAIKU35 = get_model("claude-3.5-haiku")
# The official SDK's request type (beta flavour, which knows output_format and mcp_servers).
REQUEST = TypeAdapter(message_create_params.MessageCreateParamsNonStreaming)


def build(conv=None, sp=None, model=SONNET, **kw):
    spec = build_request(
        model, conv or cases.plain(), sp or SamplingParams(), api_key=Secret("sk-ant"), **kw
    )
    REQUEST.validate_python(spec.json)
    return spec


def betas(spec) -> list[str]:
    return [b for b in spec.headers.get("anthropic-beta", "").split(",") if b]


@pytest.mark.parametrize("name", sorted(cases.every_case()))
def test_every_conversation_shape_matches_the_sdk_types(name: str) -> None:
    conv = cases.every_case()[name]
    spec = build(conv, tools=[cases.WEATHER, cases.TIME])
    system, messages = conv.to_anthropic()
    assert spec.json["messages"] == messages
    assert spec.json.get("system") == system


def test_plain_text_url_and_auth_headers() -> None:
    spec = build(sp=SamplingParams(temperature=0.4, max_new_tokens=100))
    assert spec.url == "https://api.anthropic.com/v1/messages"
    assert spec.headers["x-api-key"] == "sk-ant"
    assert spec.headers["anthropic-version"] == ANTHROPIC_VERSION
    assert "anthropic-beta" not in spec.headers
    assert spec.json == {
        "model": "claude-sonnet-4-5-20250929",
        "messages": [{"role": "user", "content": "Hello there"}],
        "max_tokens": 100,
        "temperature": 0.4,
    }
    assert "sk-ant" not in repr(spec)


def test_top_p_only_when_changed() -> None:
    assert build(sp=SamplingParams(top_p=0.8)).json["top_p"] == 0.8


def test_system_prompt_and_multi_turn() -> None:
    json = build(cases.multi_turn()).json
    assert json["system"] == "Be terse."
    assert [m["role"] for m in json["messages"]] == ["user", "assistant", "user"]


def test_image_and_document_blocks() -> None:
    image = build(cases.with_image()).json["messages"][0]["content"]
    assert image[1]["type"] == "image" and image[1]["source"]["type"] == "base64"
    assert image[1]["source"]["media_type"] == "image/png"
    doc = build(cases.with_file()).json["messages"][0]["content"]
    assert doc[1]["type"] == "document" and doc[1]["source"]["media_type"] == "application/pdf"


def test_strict_tools_turn_on_the_structured_outputs_beta() -> None:
    spec = build(tools=[cases.WEATHER])
    tool = spec.json["tools"][0]
    assert tool["name"] == "get_weather" and tool["strict"] is True
    assert tool["input_schema"]["additionalProperties"] is False
    assert BETA_STRUCTURED_OUTPUTS in betas(spec)
    loose = build(sp=SamplingParams(strict_tools=False), tools=[cases.WEATHER])
    assert "strict" not in loose.json["tools"][0] and betas(loose) == []


def test_parallel_tool_calls_and_results_share_one_user_turn() -> None:
    msgs = build(cases.parallel_tool_results(), tools=[cases.WEATHER, cases.TIME]).json["messages"]
    assert [b["id"] for b in msgs[1]["content"]] == ["call_1", "call_2"]
    results = msgs[2]["content"]
    assert msgs[2]["role"] == "user"
    assert [(r["type"], r["tool_use_id"], r["content"]) for r in results] == [
        ("tool_result", "call_1", "sunny"),
        ("tool_result", "call_2", '{"time": "12:00"}'),
    ]


def test_thinking_replay_and_budget() -> None:
    spec = build(
        cases.thinking_replay(),
        sp=SamplingParams(thinking_budget=2048, max_new_tokens=500),
        tools=[cases.WEATHER],
    )
    assert spec.json["messages"][1]["content"][0] == {
        "type": "thinking",
        "thinking": "I should call the weather tool.",
        "signature": "sig-abc",
    }
    assert spec.json["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert spec.json["max_tokens"] == 2548  # the budget plus the answer's own allowance
    assert "temperature" not in spec.json and "top_p" not in spec.json


def test_reasoning_effort_maps_to_a_budget_and_budget_wins_with_a_warning() -> None:
    assert (
        build(sp=SamplingParams(reasoning_effort="medium")).json["thinking"]["budget_tokens"]
        == 4096
    )
    assert "thinking" not in build(sp=SamplingParams(reasoning_effort="none")).json
    with pytest.warns(UserWarning, match="thinking_budget wins"):
        json = build(sp=SamplingParams(reasoning_effort="high", thinking_budget=3000)).json
    assert json["thinking"]["budget_tokens"] == 3000
    # Models without extended thinking get none.
    assert "thinking" not in build(model=HAIKU35, sp=SamplingParams(reasoning_effort="high")).json


def test_output_schema_uses_output_format_with_its_beta() -> None:
    for schema in (cases.Answer, cases.ANSWER_SCHEMA):
        spec = build(output_schema=schema)
        fmt = spec.json["output_format"]
        assert fmt["type"] == "json_schema"
        assert fmt["schema"]["additionalProperties"] is False
        assert set(fmt["schema"]["properties"]) == {"city", "temperature_c"}
        assert betas(spec) == [BETA_STRUCTURED_OUTPUTS]


def test_global_effort_for_opus_45() -> None:
    spec = build(model=OPUS, sp=SamplingParams(global_effort="medium"))
    assert spec.json["output_config"] == {"effort": "medium"}
    assert BETA_EFFORT in betas(spec)
    assert "output_config" not in build(sp=SamplingParams(global_effort="low")).json


def test_mcp_servers_go_top_level_with_their_beta() -> None:
    spec = build(tools=[cases.WEATHER, MCPServer(name="docs", url="https://mcp.example.com/sse")])
    assert spec.json["mcp_servers"] == [
        {"type": "url", "url": "https://mcp.example.com/sse", "name": "docs"}
    ]
    assert [t["name"] for t in spec.json["tools"]] == ["get_weather"]
    assert BETA_MCP in betas(spec)
    secured = MCPServer(
        name="p", url="https://mcp.example.com/p", token="t0k", configuration={"enabled": True}
    )
    (entry,) = build(tools=[secured]).json["mcp_servers"]
    assert entry["authorization_token"] == "t0k"
    assert entry["tool_configuration"] == {"enabled": True}


def test_cache_pattern_marks_system_and_last_tool() -> None:
    spec = build(
        cases.with_system(), tools=[cases.WEATHER, cases.TIME], cache_pattern="system_and_tools"
    )
    assert spec.json["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert "cache_control" not in spec.json["tools"][0]
    assert spec.json["system"][-1]["cache_control"] == {"type": "ephemeral"}


def test_extra_headers_merge_betas_and_extra_body_deep_merges() -> None:
    spec = build(
        output_schema=cases.Answer,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07", "X-Team": "a"},
        extra_body={"metadata": {"user_id": "u-1"}, "output_format": {"type": "json_schema"}},
    )
    assert betas(spec) == ["context-1m-2025-08-07", BETA_STRUCTURED_OUTPUTS]
    assert spec.headers["X-Team"] == "a"
    assert spec.json["metadata"] == {"user_id": "u-1"}
    assert "schema" in spec.json["output_format"]  # merged into, not replaced


def remote_doc_conversation() -> Conversation:
    remote = File(file_id="file_011abc", provider="anthropic", media_type="application/pdf")
    return Conversation([Message("user", []).with_text("Summarise").with_file(remote)])


def test_uploaded_file_turns_on_the_files_beta() -> None:
    assert BETA_FILES == ANTHROPIC_FILES_BETA == "files-api-2025-04-14"
    spec = build(remote_doc_conversation())
    (doc,) = [b for b in spec.json["messages"][0]["content"] if b["type"] == "document"]
    assert doc["source"] == {"type": "file", "file_id": "file_011abc"}
    assert betas(spec) == [BETA_FILES]
    # Inline documents need no beta.
    assert betas(build(cases.with_file())) == []


def test_files_beta_merges_with_other_betas_comma_separated() -> None:
    spec = build(
        remote_doc_conversation(),
        output_schema=cases.Answer,
        extra_headers={"anthropic-beta": "context-1m-2025-08-07"},
    )
    assert spec.headers["anthropic-beta"] == (
        f"context-1m-2025-08-07,{BETA_FILES},{BETA_STRUCTURED_OUTPUTS}"
    )
    # A caller who already asked for the files beta does not get it twice.
    again = build(remote_doc_conversation(), extra_headers={"anthropic-beta": BETA_FILES})
    assert betas(again) == [BETA_FILES]


def test_background_is_rejected() -> None:
    with pytest.raises(ConfigurationError, match="background=True"):
        build_request(SONNET, cases.plain(), SamplingParams(), api_key=None, background=True)
