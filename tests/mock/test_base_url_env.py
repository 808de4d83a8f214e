"""Provider base-URL variables mean what the providers' SDKs mean: one value, set the way
the official SDK wants it, points the SDK and deluge_ray at the same mock."""

from __future__ import annotations

import json
import urllib.request

import anthropic
import openai
import pytest
from google import genai

from deluge_ray._constants import BASE_URL_ENV_VARS, SDK_BASE_URL_ENV_VARS
from deluge_ray._secrets import Secret
from deluge_ray.api_requests import build_request
from deluge_ray.config import SamplingParams
from deluge_ray.mock import MockProvider, use_mock
from deluge_ray.models import get_model
from deluge_ray.prompt import Conversation

MODELS = {
    "openai": "gpt-4.1-mini",
    "anthropic": "claude-4.5-haiku",
    "gemini": "gemini-2.5-flash",
}


@pytest.fixture(scope="module")
def server():
    with MockProvider() as mock:
        yield mock


@pytest.fixture
def clean_env(monkeypatch, server):
    """No base-URL variable set, placeholder keys for the SDKs, fresh mock counters."""
    for name in (*BASE_URL_ENV_VARS.values(), *SDK_BASE_URL_ENV_VARS.values()):
        monkeypatch.delenv(name, raising=False)
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(name, "mock-key")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    server.reset_stats()
    return monkeypatch


def _deluge_ray_call(family: str) -> str:
    """Send deluge_ray's own request for ``family`` as built now; return the reply text."""
    model = get_model(MODELS[family])
    spec = build_request(
        model, Conversation().user("ping"), SamplingParams(max_new_tokens=50), api_key=Secret("k")
    )
    request = urllib.request.Request(
        spec.url,
        data=json.dumps(spec.json).encode(),
        headers={**spec.headers, "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = json.loads(response.read())
    if family == "openai":
        return body["choices"][0]["message"]["content"]
    if family == "anthropic":
        return body["content"][0]["text"]
    return body["candidates"][0]["content"]["parts"][0]["text"]


def _sdk_call(family: str) -> str:
    """The official SDK, configured by the environment alone."""
    if family == "openai":
        result = openai.OpenAI().chat.completions.create(
            model=MODELS[family], messages=[{"role": "user", "content": "ping"}]
        )
        return result.choices[0].message.content
    if family == "anthropic":
        result = anthropic.Anthropic().messages.create(
            model=MODELS[family], max_tokens=50, messages=[{"role": "user", "content": "ping"}]
        )
        return result.content[0].text
    client = genai.Client()  # held: a dropped Client closes its HTTP session mid-call
    return client.models.generate_content(model=MODELS[family], contents="ping").text


@pytest.mark.parametrize(
    ("family", "variable", "suffix"),
    [
        ("openai", "OPENAI_BASE_URL", "/v1"),
        ("anthropic", "ANTHROPIC_BASE_URL", ""),
        ("gemini", "GOOGLE_GEMINI_BASE_URL", ""),
    ],
)
def test_the_sdk_form_reaches_the_mock_from_both(server, clean_env, family, variable, suffix):
    clean_env.setenv(variable, server.url + suffix)
    assert _sdk_call(family) == "Mock reply to: ping"
    assert _deluge_ray_call(family) == "Mock reply to: ping"
    assert server.stats()["by_status"] == {"200": 2}


@pytest.mark.parametrize(
    ("family", "variable", "suffix"),
    [
        ("anthropic", "ANTHROPIC_BASE_URL", "/v1"),  # deluge_ray's earlier convention
        ("anthropic", "ANTHROPIC_BASE_URL", "/v1/"),
        ("gemini", "GEMINI_BASE_URL", ""),
        ("gemini", "GEMINI_BASE_URL", "/v1beta"),
        ("gemini", "GOOGLE_GEMINI_BASE_URL", "/v1beta"),
    ],
)
def test_the_other_unambiguous_forms_reach_the_mock(server, clean_env, family, variable, suffix):
    clean_env.setenv(variable, server.url + suffix)
    assert _deluge_ray_call(family) == "Mock reply to: ping"


def test_resolution_rules_per_variable(clean_env) -> None:
    def resolved(model: str, **env: str) -> str:
        for name, value in env.items():
            clean_env.setenv(name, value)
        url = get_model(model).resolved_base_url()
        for name in env:
            clean_env.delenv(name)
        return url

    claude, gemini = "claude-4.5-haiku", "gemini-2.5-flash"
    assert resolved(claude, ANTHROPIC_BASE_URL="https://proxy/anthropic") == (
        "https://proxy/anthropic/v1"  # the SDK calls .../anthropic/v1/messages too
    )
    # OpenAI's variable is used as given, as the openai SDK uses it.
    assert resolved("gpt-4.1-mini", OPENAI_BASE_URL="http://h:8000") == "http://h:8000"
    assert (
        resolved(gemini, GOOGLE_GEMINI_BASE_URL="https://gw/google") == "https://gw/google/v1beta"
    )
    # Ours wins over the SDK's variable when both are set.
    assert resolved(
        gemini, GEMINI_BASE_URL="http://a/v1beta", GOOGLE_GEMINI_BASE_URL="http://b"
    ) == ("http://a/v1beta")
    cohere = next(m for m in ("rerank-english-v3.0", "rerank-v3.5") if _known(m))
    assert resolved(cohere, CO_API_URL="http://c") == "http://c/v1"
    assert resolved(cohere, COHERE_BASE_URL="http://c") == "http://c/v1"
    assert resolved(cohere, COHERE_BASE_URL="http://c/v2") == "http://c/v2"


def _known(model: str) -> bool:
    try:
        get_model(model)
    except Exception:
        return False
    return True


def test_mock_environment_serves_every_sdk_and_deluge_ray(server, clean_env) -> None:
    with use_mock(server) as env:
        assert env["ANTHROPIC_BASE_URL"] == server.url
        assert env["GOOGLE_GEMINI_BASE_URL"] == server.url
        assert env["OPENAI_BASE_URL"] == server.url + "/v1"
        for family in MODELS:
            assert _sdk_call(family) == "Mock reply to: ping"
            assert _deluge_ray_call(family) == "Mock reply to: ping"
    assert server.stats()["by_status"] == {"200": 6}
