"""deluge_ray knows every model name lm-deluge 0.0.168 knows, with the same facts about it.

In scope: every registry entry (ids and aliases) whose wire format deluge_ray speaks, as
decided by ``generate_registry.in_scope`` (the providers left out are listed there with
the reason). Facts compared: wire name, wire format, provider, base URL, key variable,
the four prices and the capability flags.
"""

from __future__ import annotations

import pickle

import pytest
from lm_deluge.models import registry as oracle_registry

from deluge_ray.models import get_model, registry

from .generate_registry import FLAGS, PRICES, PROVIDER_NAMES, SPEC_MAP, in_scope


def _in_scope() -> list[str]:
    return sorted(key for key, m in oracle_registry.items() if in_scope(m))


def test_scope_covers_the_first_party_and_openai_compatible_providers():
    providers = {
        PROVIDER_NAMES.get(oracle_registry[k].provider) or oracle_registry[k].provider
        for k in _in_scope()
    }
    wanted = {"openai", "anthropic", "gemini", "openrouter", "together", "groq", "deepseek"}
    wanted |= {"mistral", "xai", "fireworks", "cerebras"}
    assert wanted <= providers
    assert len(_in_scope()) > 200


@pytest.mark.parametrize("key", _in_scope())
def test_model_matches_0_0_168(key):
    theirs = oracle_registry[key]
    ours = get_model(key)
    assert ours.id == theirs.id
    assert ours.name == theirs.name
    assert ours.api_spec == SPEC_MAP[theirs.api_spec]
    assert ours.provider == PROVIDER_NAMES.get(theirs.provider, theirs.provider)
    assert ours.base_url == theirs.api_base.rstrip("/")
    assert ours.api_key_env_var == theirs.api_key_env_var
    assert ours.api_key_env_vars == theirs.api_key_env_vars
    for price in PRICES:
        assert getattr(ours, price) == (getattr(theirs, price) or 0.0), price
    for flag in FLAGS:
        assert getattr(ours, flag) == getattr(theirs, flag), flag


def test_models_0_0_168_lacks_are_kept():
    """deluge_ray's own additions (embeddings, rerank, older models) stay registered."""
    for extra in ("text-embedding-3-small", "rerank-v3.5", "claude-3.5-haiku", "gemini-2.0-flash"):
        assert extra in registry and extra not in oracle_registry


@pytest.mark.parametrize(
    "name",
    [
        "gpt-5-high",
        "o3-high",
        "gpt-5-low",
        "gpt-5-medium",
        "gpt-5-xhigh",
        "gpt-5.1-codex-max",
        "gpt-4.1-mini",
        "claude-4.5-sonnet-high",
        "not-a-model-high",
        "gpt-5-minimal",
    ],
)
def test_effort_suffix_splits_like_0_0_168(name):
    from lm_deluge.client import _LLMClient

    from deluge_ray.models import split_effort_suffix

    assert split_effort_suffix(name) == _LLMClient._strip_reasoning_suffix_if_registered(name)


def test_a_single_suffixed_name_sets_the_client_effort_and_a_list_does_not():
    from deluge_ray.client._config import normalise_models

    base = dict(temperature=1.0, top_p=1.0, max_new_tokens=64, reasoning_effort=None)
    one = normalise_models("o3-high", model_weights="uniform", sampling_params=None, defaults=base)
    assert [m.id for m in one.models] == ["o3"]
    assert one.sampling_params[0].reasoning_effort == "high"
    both = normalise_models(
        ["o3-high", "gpt-5-low"], model_weights="uniform", sampling_params=None, defaults=base
    )
    assert [m.id for m in both.models] == ["o3", "gpt-5"]
    assert [p.reasoning_effort for p in both.sampling_params] == [None, None]
    explicit = normalise_models(
        "o3-high",
        model_weights="uniform",
        sampling_params=None,
        defaults={**base, "reasoning_effort": "low"},
    )
    assert explicit.sampling_params[0].reasoning_effort == "low"


@pytest.mark.parametrize(
    ("model_id", "url", "key_var"),
    [
        ("deepseek-chat", "https://api.deepseek.com/v1/chat/completions", "DEEPSEEK_API_KEY"),
        ("llama-3.3-70b-groq", "https://api.groq.com/openai/v1/chat/completions", "GROQ_API_KEY"),
        ("grok-4", "https://api.x.ai/v1/chat/completions", "GROK_API_KEY"),
        ("mistral-medium", "https://api.mistral.ai/v1/chat/completions", "MISTRAL_API_KEY"),
        ("glm-4.6", "https://api.z.ai/api/anthropic/v1/messages", "ZAI_API_KEY"),
    ],
)
def test_openai_compatible_providers_are_called_at_their_base_url(model_id, url, key_var):
    from deluge_ray import Conversation, SamplingParams
    from deluge_ray._secrets import Secret
    from deluge_ray.api_requests import build_request

    model = get_model(model_id)
    assert model.api_key_env_var == key_var
    spec = build_request(
        model, Conversation().user("hi"), SamplingParams(), api_key=Secret("k-123")
    )
    assert spec.url == url
    assert spec.json["model"] == model.name


def test_api_key_fallbacks_are_tried_in_order_like_0_0_168(monkeypatch):
    from lm_deluge.models import register_model as oracle_register

    from deluge_ray.errors import MissingAPIKeyError
    from deluge_ray.models import register_model

    names = ["COMPAT_KEY_MAIN", "COMPAT_KEY_FIRST", "COMPAT_KEY_SECOND"]
    common = dict(name="m", api_key_env_var=names[0], api_key_env_var_fallbacks=names[1:])
    theirs = oracle_register("compat-key-fallbacks", api_base="http://127.0.0.1:9/v1", **common)
    ours = register_model("compat-key-fallbacks", base_url="http://127.0.0.1:9/v1", **common)
    assert ours.api_key_env_vars == theirs.api_key_env_vars == tuple(names)
    for name in names:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(
        MissingAPIKeyError, match="COMPAT_KEY_MAIN, COMPAT_KEY_FIRST, COMPAT_KEY_SECOND"
    ):
        ours.resolve_api_key()
    monkeypatch.setenv("COMPAT_KEY_SECOND", "sk-second")
    monkeypatch.setenv("COMPAT_KEY_FIRST", "sk-first")
    assert ours.resolve_api_key().reveal() == theirs.resolve_api_key() == "sk-first"
    monkeypatch.setenv("COMPAT_KEY_MAIN", "sk-main")
    assert ours.resolve_api_key().reveal() == theirs.resolve_api_key() == "sk-main"


def test_register_model_stores_0_0_168s_other_arguments():
    from deluge_ray.errors import ConfigurationError
    from deluge_ray.models import register_model

    model = register_model(
        "compat-regions",
        base_url="http://127.0.0.1:9/v1",
        regions={"us-east-1": 2, "us-west-2": 1},
        requires_stateless_responses=True,
    )
    assert dict(model.regions) == {"us-east-1": 2, "us-west-2": 1}
    assert pickle.loads(pickle.dumps(model)) == model  # models travel to Ray actors
    assert model.requires_stateless_responses and not model.stateless_responses
    with pytest.raises(ConfigurationError, match="api_key_env_var_fallbacks"):
        register_model("compat-bad-fallbacks", api_key_env_var_fallbacks="ONE_STRING")
