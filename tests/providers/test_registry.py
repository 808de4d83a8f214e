"""The model registry: built-in names, prices, base-URL overrides and custom models."""

from __future__ import annotations

import pytest

from deluge_ray.errors import ConfigurationError, UnknownModelError
from deluge_ray.models import APIModel, get_model, register_model, registry

REFERENCE_NAMES = [
    "gpt-4.1",
    "gpt-4.1-mini",
    "gpt-4.1-nano",
    "gpt-4o",
    "gpt-4o-mini",
    "o3",
    "o4-mini",
    "gpt-5",
    "gpt-5-mini",
    "gpt-5-nano",
    "text-embedding-3-small",
    "text-embedding-3-large",
    "claude-4.5-sonnet",
    "claude-4.5-opus",
    "claude-4.5-haiku",
    "claude-4-sonnet",
    "claude-3.7-sonnet",
    "gemini-2.5-flash",
    "gemini-2.5-pro",
    "gemini-2.5-flash-lite",
]


@pytest.mark.parametrize("name", REFERENCE_NAMES)
def test_reference_models_are_registered_completely(name: str) -> None:
    m = get_model(name)
    assert m.id == name
    assert m.api_spec in {"openai", "anthropic", "gemini"}
    assert (
        m.api_key_env_var
        == {
            "openai": "OPENAI_API_KEY",
            "anthropic": "ANTHROPIC_API_KEY",
            "gemini": "GEMINI_API_KEY",
        }[m.provider]
    )
    assert m.input_cost > 0
    assert m.base_url.startswith("https://")


def test_wire_names_prices_and_flags_of_known_models() -> None:
    mini = get_model("gpt-4.1-mini")
    assert (mini.name, mini.input_cost, mini.cached_input_cost, mini.output_cost) == (
        "gpt-4.1-mini-2025-04-14",
        0.4,
        0.1,
        1.6,
    )
    assert mini.supports_logprobs and mini.supports_responses and not mini.reasoning_model
    sonnet = get_model("claude-4.5-sonnet")
    assert sonnet.name == "claude-sonnet-4-5-20250929"
    assert (sonnet.cached_input_cost, sonnet.cache_write_cost) == (0.3, 3.75)
    assert sonnet.reasoning_model and not sonnet.supports_effort
    assert get_model("claude-4.5-opus").supports_effort
    # o3's flags are lm-deluge 0.0.168's (it lists logprobs support for it).
    assert get_model("o3").reasoning_model and get_model("o3").supports_logprobs
    assert get_model("gemini-2.5-flash").name == "gemini-2.5-flash"
    assert get_model("text-embedding-3-small").is_embedding


@pytest.mark.parametrize(
    "model_id", ["rerank-english-v3.0", "rerank-v3.5", "rerank-multilingual-v3.0"]
)
def test_cohere_rerank_models_are_registered(model_id, monkeypatch) -> None:
    m = get_model(model_id)
    assert (m.name, m.provider, m.api_key_env_var) == (model_id, "cohere", "COHERE_API_KEY")
    assert m.is_rerank and not m.is_embedding and not m.supports_tools
    # Billed per search, not per token: no token prices (documented in models/_cohere.py).
    assert m.cost(1_000, 0) == 0.0
    monkeypatch.delenv("COHERE_BASE_URL", raising=False)
    assert m.resolved_base_url() == "https://api.cohere.com/v1"
    monkeypatch.setenv("COHERE_BASE_URL", "http://127.0.0.1:9/v1")
    assert m.resolved_base_url() == "http://127.0.0.1:9/v1"


def test_chat_models_are_not_rerank_models() -> None:
    assert not any(m.is_rerank for m in registry.values() if m.provider != "cohere")


def test_anthropic_aliases_resolve_to_the_same_wire_model() -> None:
    assert get_model("claude-sonnet-4.5").name == get_model("claude-4.5-sonnet").name
    assert get_model("claude-sonnet-4-5").name == get_model("claude-4.5-sonnet").name


def test_unknown_model_suggests_close_names() -> None:
    with pytest.raises(UnknownModelError) as info:
        get_model("gpt-4.1-mimi")
    assert "gpt-4.1-mini" in info.value.suggestions
    assert "Did you mean" in str(info.value) and "gpt-4.1-mini" in str(info.value)
    assert isinstance(info.value, KeyError)  # lm-deluge code catching KeyError still works


def test_registry_is_read_only() -> None:
    with pytest.raises(TypeError):
        registry["x"] = get_model("gpt-4o")  # type: ignore[index]
    assert registry["gpt-4o"] is get_model("gpt-4o")


def test_base_url_follows_provider_env_var_at_call_time(monkeypatch) -> None:
    m = get_model("claude-4.5-haiku")
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
    assert m.resolved_base_url() == "https://api.anthropic.com/v1"
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9999/v1/")
    assert m.resolved_base_url() == "http://127.0.0.1:9999/v1"
    monkeypatch.setenv("GEMINI_BASE_URL", "http://mock/gem")
    assert get_model("gemini-2.5-pro").resolved_base_url() == "http://mock/gem"


def test_register_keyless_openai_compatible_server(monkeypatch) -> None:
    m = register_model(
        "test-local-llama",
        name="meta-llama/Llama-3.1-8B-Instruct",
        provider="vllm",
        base_url="http://localhost:8000/v1",
        api_key_env_var=None,
        input_cost=0.1,
    )
    assert isinstance(m, APIModel)
    assert get_model("test-local-llama") is m
    assert (m.api_spec, m.api_key_env_var, m.cached_input_cost) == ("openai", None, 0.1)
    # An explicitly registered URL is not hijacked by the provider-wide override.
    monkeypatch.setenv("OPENAI_BASE_URL", "http://elsewhere/v1")
    assert (
        register_model("test-own-url", base_url="http://mine/v1").resolved_base_url()
        == "http://mine/v1"
    )
    assert register_model("test-openai-default").resolved_base_url() == "http://elsewhere/v1"
    assert get_model("test-openai-default").api_key_env_var == "OPENAI_API_KEY"


def test_register_model_rejects_bad_arguments() -> None:
    with pytest.raises(ConfigurationError, match="api_spec must be one of"):
        register_model("test-bad-spec", api_spec="soap")
    with pytest.raises(ConfigurationError, match="no default base URL"):
        register_model("test-no-url", provider="acme")
    with pytest.raises(ConfigurationError, match="input_cost"):
        register_model("test-neg", input_cost=-1)


def test_cost_prices_cached_tokens_at_the_cached_rate() -> None:
    m = get_model("gpt-4.1")
    # 1M fresh input at $2, 1M cached at $0.5, 1M output at $8
    assert m.cost(1_000_000, 1_000_000, cache_read_tokens=1_000_000) == pytest.approx(10.5)
    s = get_model("claude-4.5-sonnet")
    assert s.cost(0, 0, cache_write_tokens=1_000_000) == pytest.approx(3.75)
