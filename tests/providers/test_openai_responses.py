"""OpenAI responses API and embeddings: request bodies field by field, validated by the spec."""

from __future__ import annotations

import pytest

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_embedding_request, build_request
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation, Message, Thinking
from deluge_ray.tool import MCPServer
from tests.support.openapi import validate

from . import _cases as cases

MINI = get_model("gpt-4.1-mini")
GPT5 = get_model("gpt-5")


def body(conv=None, sp=None, model=MINI, **kw):
    spec = build_request(
        model,
        conv or cases.plain(),
        sp or SamplingParams(),
        api_key=Secret("sk-r"),
        use_responses_api=True,
        **kw,
    )
    validate("CreateResponse", spec.json)
    return spec


@pytest.mark.parametrize("name", sorted(cases.every_case()))
@pytest.mark.parametrize("model", ["gpt-4.1-mini", "gpt-5"])
def test_every_conversation_shape_validates(name: str, model: str) -> None:
    conv = cases.every_case()[name]
    spec = body(conv, model=get_model(model), tools=[cases.WEATHER, cases.TIME])
    assert spec.json["input"] == conv.to_openai_responses()["input"]


def test_plain_text() -> None:
    spec = body(sp=SamplingParams(temperature=0.5, max_new_tokens=64))
    assert spec.url == "https://api.openai.com/v1/responses"
    assert spec.headers["Authorization"] == "Bearer sk-r"
    assert spec.json == {
        "model": "gpt-4.1-mini-2025-04-14",
        "input": [
            {
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "Hello there"}],
            }
        ],
        "max_output_tokens": 64,
        "temperature": 0.5,
        "top_p": 1.0,
    }


def test_system_prompt_becomes_instructions_and_turns_stay_in_order() -> None:
    json = body(cases.multi_turn()).json
    assert json["instructions"] == "Be terse."
    assert [item["role"] for item in json["input"]] == ["user", "assistant", "user"]


def test_image_and_file_parts() -> None:
    image = body(cases.with_image()).json["input"][0]["content"][1]
    assert image["type"] == "input_image" and image["image_url"].startswith(
        "data:image/png;base64,"
    )
    file = body(cases.with_file()).json["input"][0]["content"][1]
    assert file["type"] == "input_file" and file["filename"] == "r.pdf"


def test_strict_function_tools_and_mcp_servers() -> None:
    server = MCPServer(name="docs", url="https://mcp.example.com/sse")
    secured = MCPServer(name="private", url="https://mcp.example.com/p", token="t0k")
    tools = body(tools=[cases.WEATHER, server, secured]).json["tools"]
    assert tools[0]["type"] == "function" and tools[0]["name"] == "get_weather"
    assert tools[0]["strict"] is True and tools[0]["parameters"]["additionalProperties"] is False
    assert tools[1] == {
        "type": "mcp",
        "server_label": "docs",
        "server_url": "https://mcp.example.com/sse",
        "require_approval": "never",
    }
    assert tools[2]["headers"] == {"Authorization": "Bearer t0k"}


def test_parallel_tool_calls_and_results() -> None:
    items = body(cases.parallel_tool_results()).json["input"]
    assert [(i["type"], i["call_id"]) for i in items[1:]] == [
        ("function_call", "call_1"),
        ("function_call", "call_2"),
        ("function_call_output", "call_1"),
        ("function_call_output", "call_2"),
    ]
    assert items[4]["output"] == '{"time": "12:00"}'


def test_reasoning_items_are_replayed_with_encrypted_content() -> None:
    conv = Conversation().user("Q")
    conv.add(
        Message(
            "assistant",
            [
                Thinking("thought", raw={"id": "rs_1", "encrypted_content": "gAAA", "summary": []}),
            ],
        ).with_text("A")
    )
    conv.user("Again")
    json = body(conv, model=GPT5, sp=SamplingParams(reasoning_effort="low")).json
    reasoning = [i for i in json["input"] if i.get("type") == "reasoning"]
    assert reasoning == [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": "gAAA"}
    ]
    assert json["reasoning"] == {"effort": "low", "summary": "auto"}
    assert json["store"] is False and json["include"] == ["reasoning.encrypted_content"]
    assert json["temperature"] == 1.0  # the only value a reasoning model takes


def test_json_mode_and_output_schema_use_text_format() -> None:
    assert body(sp=SamplingParams(json_mode=True)).json["text"] == {
        "format": {"type": "json_object"}
    }
    fmt = body(output_schema=cases.Answer).json["text"]["format"]
    assert (fmt["type"], fmt["name"], fmt["strict"]) == ("json_schema", "Answer", True)
    assert fmt["schema"]["required"] == ["city", "temperature_c"]


def test_logprobs_service_tier_background_extra_body_headers() -> None:
    spec = body(
        sp=SamplingParams(logprobs=True, top_logprobs=3),
        service_tier="priority",
        background=True,
        extra_headers={"X-Trace": "t1"},
        extra_body={"metadata": {"run": "7"}},
    )
    json = spec.json
    assert json["top_logprobs"] == 3 and "message.output_text.logprobs" in json["include"]
    assert json["service_tier"] == "priority"
    assert json["background"] is True and json["store"] is True
    assert json["metadata"] == {"run": "7"} and spec.headers["X-Trace"] == "t1"


def test_responses_api_needs_an_openai_model() -> None:
    with pytest.raises(ConfigurationError, match="needs an OpenAI model"):
        build_request(
            get_model("claude-4.5-haiku"),
            cases.plain(),
            SamplingParams(),
            api_key=None,
            use_responses_api=True,
        )


def test_embeddings_request() -> None:
    model = get_model("text-embedding-3-small")
    spec = build_embedding_request(
        model, ["alpha", "beta"], dimensions=256, api_key=Secret("sk-e"), extra_body={"user": "u1"}
    )
    validate("CreateEmbeddingRequest", spec.json)
    assert spec.url == "https://api.openai.com/v1/embeddings"
    assert spec.json == {
        "model": "text-embedding-3-small",
        "input": ["alpha", "beta"],
        "encoding_format": "float",
        "dimensions": 256,
        "user": "u1",
    }
    assert spec.headers["Authorization"] == "Bearer sk-e" and "sk-e" not in repr(spec)


def test_embeddings_reject_bad_batches() -> None:
    model = get_model("text-embedding-3-small")
    with pytest.raises(ConfigurationError, match="1 to 2048 texts"):
        build_embedding_request(model, [], api_key=None)
    with pytest.raises(ConfigurationError, match=r"indexes \[1\]"):
        build_embedding_request(model, ["a", ""], api_key=None)
