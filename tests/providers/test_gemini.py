"""Gemini generateContent: request bodies field by field."""

from __future__ import annotations

import pytest

from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request
from deluge_ray.config import SamplingParams
from deluge_ray.errors import ConfigurationError
from deluge_ray.models import get_model
from deluge_ray.tool import MCPServer, Tool

from . import _cases as cases

FLASH = get_model("gemini-2.5-flash")
FLASH20 = get_model("gemini-2.0-flash")
PRO = get_model("gemini-2.5-pro")


def build(conv=None, sp=None, model=FLASH, **kw):
    return build_request(
        model, conv or cases.plain(), sp or SamplingParams(), api_key=Secret("g-key"), **kw
    )


@pytest.mark.parametrize("name", sorted(cases.every_case()))
def test_every_conversation_shape_uses_the_prompt_serialiser(name: str) -> None:
    conv = cases.every_case()[name]
    json = build(conv).json
    system, contents = conv.to_gemini()
    assert json["contents"] == contents
    assert json.get("systemInstruction") == system
    assert all(c["role"] in ("user", "model") for c in json["contents"])


def test_plain_text_url_and_key_header(monkeypatch) -> None:
    spec = build(sp=SamplingParams(temperature=0.7, top_p=0.9, max_new_tokens=300))
    assert spec.url == (
        "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"
    )
    assert spec.headers["x-goog-api-key"] == "g-key" and "g-key" not in repr(spec)
    assert "key=" not in spec.url  # the key never goes into a URL (URLs end up in logs)
    assert spec.json == {
        "contents": [{"role": "user", "parts": [{"text": "Hello there"}]}],
        "generationConfig": {"temperature": 0.7, "topP": 0.9, "maxOutputTokens": 300},
    }
    monkeypatch.setenv("GEMINI_BASE_URL", "http://mock:9/v1beta")
    assert build().url == "http://mock:9/v1beta/models/gemini-2.5-flash:generateContent"


def test_system_instruction_and_multi_turn_roles() -> None:
    json = build(cases.multi_turn()).json
    assert json["systemInstruction"] == {"parts": [{"text": "Be terse."}]}
    assert [c["role"] for c in json["contents"]] == ["user", "model", "user"]


def test_image_and_file_parts_are_inline() -> None:
    image = build(cases.with_image()).json["contents"][0]["parts"][1]
    assert image["inline_data"]["mime_type"] == "image/png"
    doc = build(cases.with_file()).json["contents"][0]["parts"][1]
    assert doc["inline_data"]["mime_type"] == "application/pdf"


def test_tools_become_function_declarations_and_builtins_stay_entries() -> None:
    entries = build(tools=[cases.WEATHER, cases.TIME, Tool.built_in("google_search")]).json["tools"]
    decls = entries[0]["functionDeclarations"]
    assert [d["name"] for d in decls] == ["get_weather", "get_time"]
    assert decls[0]["parameters"]["required"] == ["city"]
    assert entries[1:] == [{"google_search": {}}]


def test_parallel_calls_and_results() -> None:
    contents = build(cases.parallel_tool_results()).json["contents"]
    calls = [p["functionCall"]["name"] for p in contents[1]["parts"]]
    assert calls == ["get_weather", "get_time"]
    responses = [p["functionResponse"] for p in contents[2]["parts"]]
    assert [r["name"] for r in responses] == ["get_weather", "get_time"]
    assert contents[2]["role"] == "user"


def test_thinking_replay_budget_and_effort() -> None:
    json = build(
        cases.thinking_replay(), sp=SamplingParams(thinking_budget=1000, max_new_tokens=200)
    ).json
    assert json["contents"][1]["parts"][0]["thought"] is True
    assert json["generationConfig"]["thinkingConfig"] == {
        "thinkingBudget": 1000,
        "includeThoughts": True,
    }
    assert json["generationConfig"]["maxOutputTokens"] == 1200
    off = build(sp=SamplingParams(reasoning_effort="none")).json["generationConfig"]
    assert off["thinkingConfig"] == {"thinkingBudget": 0, "includeThoughts": False}
    high = build(sp=SamplingParams(reasoning_effort="high")).json["generationConfig"]
    assert high["thinkingConfig"]["thinkingBudget"] == 16384
    with pytest.warns(UserWarning, match="thinking_budget wins"):
        both = build(sp=SamplingParams(reasoning_effort="low", thinking_budget=777)).json
    assert both["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 777
    # Gemini 2.0 has no thinking: nothing is sent.
    assert (
        "thinkingConfig"
        not in build(model=FLASH20, sp=SamplingParams(reasoning_effort="high")).json[
            "generationConfig"
        ]
    )


def test_json_mode_and_output_schema() -> None:
    assert (
        build(sp=SamplingParams(json_mode=True)).json["generationConfig"]["responseMimeType"]
        == "application/json"
    )
    config = build(output_schema=cases.Answer).json["generationConfig"]
    assert config["responseMimeType"] == "application/json"
    assert set(config["responseJsonSchema"]["properties"]) == {"city", "temperature_c"}
    assert (
        build(output_schema=cases.ANSWER_SCHEMA).json["generationConfig"]["responseJsonSchema"]
        == cases.ANSWER_SCHEMA
    )


def test_logprobs_extra_body_and_headers() -> None:
    spec = build(
        sp=SamplingParams(logprobs=True, top_logprobs=2),
        extra_headers={"X-Goog-User-Project": "p"},
        extra_body={"generationConfig": {"seed": 3}, "safetySettings": []},
    )
    config = spec.json["generationConfig"]
    assert (config["responseLogprobs"], config["logprobs"], config["seed"]) == (True, 2, 3)
    assert config["temperature"] == 1.0  # merged into, not replaced
    assert spec.json["safetySettings"] == [] and spec.headers["X-Goog-User-Project"] == "p"


def test_mcp_servers_and_background_are_rejected() -> None:
    with pytest.raises(ConfigurationError, match="no native MCP support"):
        build(tools=[MCPServer(name="d", url="https://x")])
    with pytest.raises(ConfigurationError, match="background=True"):
        build(background=True)


@pytest.mark.parametrize("model_id", ["gemini-2.5-pro", "gemini-3-pro-preview"])
def test_effort_none_on_an_always_thinking_model_sends_its_minimum_budget(model_id) -> None:
    model = get_model(model_id)
    assert model.min_thinking_budget == 128
    config = build(model=model, sp=SamplingParams(reasoning_effort="none", max_new_tokens=50))
    generation = config.json["generationConfig"]
    assert generation["thinkingConfig"]["thinkingBudget"] == 128
    assert generation["maxOutputTokens"] == 50 + 128  # the answer keeps its own allowance


def test_explicit_budget_below_the_minimum_is_raised_with_a_warning() -> None:
    with pytest.warns(UserWarning, match="below gemini-2.5-pro's minimum of 128"):
        json = build(model=PRO, sp=SamplingParams(thinking_budget=0)).json
    assert json["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 128
    # At or above the minimum the budget is sent as given.
    json = build(model=PRO, sp=SamplingParams(thinking_budget=128)).json
    assert json["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 128


def test_models_that_can_stop_thinking_still_get_zero() -> None:
    for model in (FLASH, get_model("gemini-2.5-flash-lite")):
        json = build(model=model, sp=SamplingParams(reasoning_effort="none")).json
        assert json["generationConfig"]["thinkingConfig"]["thinkingBudget"] == 0
