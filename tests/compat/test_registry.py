"""deluge_ray knows every model name lm-deluge 0.0.168 knows, with the same facts about it.

In scope: every registry entry (ids and aliases) whose wire format deluge_ray speaks
(OpenAI chat/responses, Anthropic messages, Gemini generateContent) at a plain base URL with
a key variable. Out of scope, with the reason: Bedrock, Azure, Vertex and Cloudflare need
cloud-specific auth or endpoints; NVIDIA, Mistral's native API and Moondream have wire
formats deluge_ray does not implement.
"""

from __future__ import annotations

import pytest
from lm_deluge.models import registry as oracle_registry

from deluge_ray.models import get_model

IN_SCOPE_SPECS = {"openai", "anthropic", "gemini"}
OUT_OF_SCOPE_PROVIDERS = {
    "bedrock": "AWS SigV4 auth",
    "azure": "per-resource Azure endpoints and api-version query",
    "cloudflare": "account-specific Workers AI endpoints",
}
# 0.0.168 calls Google's provider "google"; deluge_ray has always called it "gemini".
PROVIDER_NAMES = {"google": "gemini"}


def _in_scope() -> list[str]:
    return sorted(
        key
        for key, m in oracle_registry.items()
        if m.api_spec in IN_SCOPE_SPECS and m.provider not in OUT_OF_SCOPE_PROVIDERS
    )


def test_scope_is_not_trivially_small():
    assert len(_in_scope()) > 150


@pytest.mark.parametrize("key", _in_scope())
def test_model_matches_0_0_168(key):
    theirs = oracle_registry[key]
    ours = get_model(key)
    assert ours.name == theirs.name
    assert ours.api_spec == theirs.api_spec
    assert ours.provider == PROVIDER_NAMES.get(theirs.provider, theirs.provider)
    assert ours.base_url.rstrip("/") == theirs.api_base.rstrip("/")
    assert ours.api_key_env_var == theirs.api_key_env_var
    for price in ("input_cost", "output_cost", "cached_input_cost", "cache_write_cost"):
        assert getattr(ours, price) == (getattr(theirs, price) or 0.0), price
    for flag in (
        "supports_json",
        "supports_images",
        "supports_logprobs",
        "supports_responses",
        "reasoning_model",
    ):
        assert getattr(ours, flag) == getattr(theirs, flag), flag
