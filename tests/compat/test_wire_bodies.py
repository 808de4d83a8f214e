"""Request bodies built by lm-deluge 0.0.168 and by deluge_ray for the same call, compared.

Both libraries' request builders are pure (no network), so the oracle's are called
directly: the bodies must agree on every field except the ones the README's "What
differs" list names (Responses-API statelessness for reasoning models, Claude thinking).
"""

from __future__ import annotations

import asyncio
import warnings

import lm_deluge
import pytest
from lm_deluge.api_requests import anthropic as oracle_anthropic
from lm_deluge.api_requests import openai as oracle_openai
from lm_deluge.api_requests.context import RequestContext
from lm_deluge.models import APIModel as OracleModel
from lm_deluge.models import register_model as oracle_register
from lm_deluge.models import registry as oracle_registry

import deluge_ray
from deluge_ray.api_requests import build_request
from deluge_ray.models import get_model, register_model

# 0.0.168's own models, as collected: tests run later register mock-served ids in the
# oracle's registry too (compat scripts, agent-loop comparisons), which are not its own.
_ORACLE_OWN_IDS = frozenset(oracle_registry)

# The prompt is serialised by code the prompt tests compare; only the other fields here.
_PROMPT_KEYS = ("messages", "input", "system")
# deluge_ray asks reasoning models for stateless Responses replay (README, "What differs").
_STATELESS_KEYS = ("store", "include")


def _theirs(model_id: str, api: str, **sampling) -> dict:
    context = RequestContext(
        task_id=0,
        model_name=model_id,
        prompt=lm_deluge.Conversation().user("hi"),
        sampling_params=lm_deluge.SamplingParams(**sampling),
        use_responses_api=api == "responses",
    )
    model = OracleModel.from_registry(model_id)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if api == "chat":
            body = asyncio.run(oracle_openai._build_oa_chat_request(model, context))
        elif api == "responses":
            body = asyncio.run(oracle_openai._build_oa_responses_request(model, context))
        else:
            body = oracle_anthropic._build_anthropic_request(model, context)
            body = body[0] if isinstance(body, tuple) else body
    return {k: v for k, v in body.items() if k not in _PROMPT_KEYS}


def _ours(model_id: str, api: str, **sampling) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        spec = build_request(
            get_model(model_id),
            deluge_ray.Conversation().user("hi"),
            deluge_ray.SamplingParams(**sampling),
            use_responses_api=api == "responses",
            api_key=None,
        )
    return {k: v for k, v in spec.json.items() if k not in _PROMPT_KEYS}


_EFFORTS = [
    {},
    {"reasoning_effort": "none"},
    {"reasoning_effort": "minimal"},
    {"reasoning_effort": "medium"},
    {"reasoning_effort": "xhigh"},
    {"reasoning_effort": "max"},
    {"verbosity": "minimal"},
    {"global_effort": "max"},
    {"temperature": 0.3, "top_p": 0.9},
]
_OPENAI_MODELS = ["gpt-4.1-mini", "o3", "o4-mini", "gpt-5", "gpt-5.2", "gpt-5.1-codex-max"]


@pytest.mark.parametrize("model_id", _OPENAI_MODELS)
def test_chat_completions_bodies_match_0_0_168(model_id):
    for sampling in _EFFORTS:
        assert _ours(model_id, "chat", **sampling) == _theirs(model_id, "chat", **sampling), (
            sampling
        )


@pytest.mark.parametrize("model_id", _OPENAI_MODELS)
def test_responses_bodies_match_0_0_168_but_for_statelessness(model_id):
    for sampling in _EFFORTS:
        ours = _ours(model_id, "responses", **sampling)
        theirs = _theirs(model_id, "responses", **sampling)
        stateless = {k: ours.pop(k) for k in _STATELESS_KEYS if k in ours}
        assert ours == theirs, sampling
        reasoning = get_model(model_id).reasoning_model
        assert bool(stateless) == reasoning


def test_every_openai_format_model_in_the_registry_gets_0_0_168s_body():
    """Every model 0.0.168 sends as OpenAI chat (OpenRouter, Together, Groq, Mistral, ...):
    the per-model flags (omitted defaults, Mistral's ``max_tokens``) shape it the same way."""
    from .generate_registry import in_scope

    checked = 0
    for model_id, model in oracle_registry.items():
        if model_id != model.id or not in_scope(model) or model.api_spec in ("anthropic", "gemini"):
            continue
        if model_id not in _ORACLE_OWN_IDS:
            continue  # registered by another test (on the mock), not 0.0.168's own
        for sampling in ({}, {"reasoning_effort": "high"}, {"verbosity": "low"}):
            ours = _ours(model_id, "chat", **sampling)
            assert ours == _theirs(model_id, "chat", **sampling), (model_id, sampling)
            checked += 1
    assert checked > 400


def test_effort_is_lowered_to_what_the_model_takes():
    # The cases that matter most, spelled out: o3 has no xhigh, GPT-5.2 no max.
    assert _ours("o3", "chat", reasoning_effort="max")["reasoning_effort"] == "high"
    assert _ours("gpt-5.2", "chat", reasoning_effort="max")["reasoning_effort"] == "xhigh"
    assert _ours("gpt-5", "chat", global_effort="xhigh")["verbosity"] == "high"
    assert _ours("o3", "chat")["reasoning_effort"] == "low"  # 0.0.168's default


@pytest.mark.parametrize(
    "model_id", ["claude-4.5-opus", "claude-4.5-sonnet", "claude-4.6-sonnet", "claude-4.7-opus"]
)
@pytest.mark.parametrize("effort", ["minimal", "low", "xhigh", "max"])
def test_anthropic_output_effort_matches_0_0_168(model_id, effort):
    ours = _ours(model_id, "anthropic", global_effort=effort).get("output_config")
    theirs = _theirs(model_id, "anthropic", global_effort=effort).get("output_config")
    assert ours == theirs


def _without_documented_claude_defaults(theirs: dict, ours: dict) -> dict:
    """0.0.168's Claude body less what the README says deluge_ray leaves out: the API's
    default effort ``high`` when none was asked for, ``thinking: disabled``, and the
    temperature 1.0 that thinking implies."""
    theirs = dict(theirs)
    if "output_config" not in ours and theirs.get("output_config") == {"effort": "high"}:
        del theirs["output_config"]
    if "thinking" not in ours and theirs.get("thinking") == {"type": "disabled"}:
        del theirs["thinking"]
    if "temperature" not in ours and "thinking" in ours and theirs.get("temperature") == 1.0:
        del theirs["temperature"]  # with thinking on, 1.0 is the only value the API takes
    return theirs


@pytest.mark.parametrize(
    "model_id",
    [
        "claude-4.5-sonnet",
        "claude-4.6-sonnet",
        "claude-4.7-opus",
        "claude-5-sonnet",
        "claude-5-opus",
    ],
)
def test_claude_thinking_bodies_match_0_0_168(model_id):
    for sampling in [
        {"reasoning_effort": "low"},
        {"reasoning_effort": "minimal"},
        {"reasoning_effort": "xhigh"},
        {"reasoning_effort": "high", "global_effort": "low"},
        {"thinking_budget": 5_000},
        {"thinking_budget": 40_000},
    ]:
        ours = _ours(model_id, "anthropic", **sampling)
        theirs = _theirs(model_id, "anthropic", **sampling)
        if sampling == {"reasoning_effort": "minimal"} and "budget_tokens" in ours["thinking"]:
            # Anthropic's smallest budget is 1,024 (0.0.168 sends 256): README.
            assert ours["thinking"]["budget_tokens"] == 1_024
            continue
        assert ours == _without_documented_claude_defaults(theirs, ours), sampling
    # Opus 4.7 and later reject budget_tokens: a budget becomes adaptive thinking.
    if model_id in ("claude-4.7-opus", "claude-5-opus"):
        assert _ours(model_id, "anthropic", thinking_budget=5_000)["thinking"]["type"] == "adaptive"


_REGISTERED = {
    "compat-wire-omit-all": dict(
        reasoning_model=True, omit_default_sampling_params=True, omit_default_reasoning_effort=True
    ),
    "compat-wire-omit-sampling": dict(omit_default_sampling_params=True),
    "compat-wire-stateless": dict(supports_responses=True, stateless_responses=True),
}


@pytest.fixture(scope="module")
def registered():
    for model_id, flags in _REGISTERED.items():
        common = dict(name="served-model", api_key_env_var="OPENAI_API_KEY", **flags)
        oracle_register(model_id, api_base="http://127.0.0.1:9/v1", provider="openai", **common)
        register_model(model_id, base_url="http://127.0.0.1:9/v1", **common)
    return list(_REGISTERED)


@pytest.mark.parametrize("sampling", [{}, {"temperature": 0.5}, {"reasoning_effort": "high"}])
def test_registered_omit_and_stateless_flags_shape_the_body_as_in_0_0_168(registered, sampling):
    for model_id in registered:
        assert _ours(model_id, "chat", **sampling) == _theirs(model_id, "chat", **sampling)
        ours = _ours(model_id, "responses", **sampling)
        if not get_model(model_id).stateless_responses:  # a reasoning model: see above
            for key in _STATELESS_KEYS:
                ours.pop(key, None)
        assert ours == _theirs(model_id, "responses", **sampling)
    omitted = _ours("compat-wire-omit-all", "chat")
    assert "temperature" not in omitted and "reasoning_effort" not in omitted
    assert _ours("compat-wire-stateless", "responses")["store"] is False
