"""Bad input gets a clear error at the call; in a batch, the other prompts still complete.
And no API key ever shows up in a repr, an error or an actor name."""

from __future__ import annotations

import io
import json
import uuid

import pytest
import ray
from PIL import Image as PILImage

from deluge_ray.client import LLMClient
from deluge_ray.errors import (
    ConfigurationError,
    MissingAPIKeyError,
    PromptError,
    UnknownModelError,
)
from deluge_ray.prompt import Conversation, Image
from deluge_ray.tool import Tool

from .conftest import MINI, NANO


def test_unknown_model_names_suggestions():
    with pytest.raises(UnknownModelError, match=r"Did you mean: .*gpt-4\.1-mini"):
        LLMClient("gpt-4.1-mimi")


def test_an_empty_prompt_list_returns_an_empty_list_without_starting_ray():
    client = LLMClient(MINI)
    assert client.process_prompts_sync([]) == []
    assert client.process_prompts_sync([], return_completions_only=True) == []
    assert client._engine is None  # nothing was started for nothing


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(cache_ttl="1h"), "cache_ttl='1h' is not supported"),
        (dict(cache_ttl="2h"), "cache_ttl must be one of"),
        (dict(stateless_responses=True), "only valid with use_responses_api"),
        (dict(stateless_responses=True, use_responses_api=True), "stateless_responses=True"),
        (dict(thinking_prefix_mismatch="drop_block"), "thinking_prefix_mismatch='drop_block'"),
        (dict(thinking_prefix_mismatch="ignore"), "thinking_prefix_mismatch must be one of"),
        (dict(task_budget=20_000), "task_budget=20000 is not supported"),
        (dict(global_effort="low", verbosity="high"), "disagree"),
        (dict(verbosity="loud"), "verbosity must be one of"),
        (dict(fallback_models=[3]), "fallback_models must be"),
    ],
)
def test_arguments_deluge_ray_cannot_honour_are_refused_by_name(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        LLMClient(MINI, **kwargs)


def test_unknown_fallback_model_is_refused_like_an_unknown_model():
    with pytest.raises(UnknownModelError, match=r"gpt-4\.1-mimi"):
        LLMClient(MINI, fallback_models=["gpt-4.1-mimi"])


def test_unsupported_prompt_type_names_the_index():
    with pytest.raises(PromptError, match="1"):
        LLMClient(MINI).process_prompts_sync(["fine", 42])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(model_weights=[1.0]), "2 models"),
        (dict(model_weights=[1.0, -1.0]), "non-negative"),
        (dict(model_weights=[0, 0]), "positive weight"),
        (dict(max_requests_per_minute=0), "max_requests_per_minute"),
        (dict(max_tokens_per_minute=-1), "max_tokens_per_minute"),
        (dict(max_concurrent_requests=0), "max_concurrent_requests"),
        (dict(background=True), "use_responses_api"),
        (dict(max_attempts=0), "max_attempts"),
        (dict(progress="fancy"), "progress"),
        (dict(num_callers=0), "num_callers"),
    ],
)
def test_bad_constructor_arguments(kwargs, match):
    with pytest.raises(ConfigurationError, match=match):
        LLMClient([MINI, NANO], **kwargs)


def test_dynamic_weights_are_not_implemented():
    with pytest.raises(NotImplementedError, match="dynamic"):
        LLMClient([MINI, NANO], model_weights="dynamic")


def test_bad_service_tier_is_rejected(mock, make_client):
    with pytest.raises(ConfigurationError, match="service_tier"):
        make_client().process_prompts_sync(["x"], service_tier="gold")


async def test_request_larger_than_the_token_budget_fails_alone(mock, make_client, monkeypatch):
    # A key of its own, hence a limiter of its own: the shared one carries earlier tests'
    # state (tokens spent, slots of callers other tests killed), and at 6,000 TPM that
    # paced this test for over a minute in the full suite (1.6 s alone).
    monkeypatch.setenv("OPENAI_API_KEY", f"sk-oversized-{uuid.uuid4().hex}")
    # A limit the short prompts fit in many times over (so they are not paced), that the
    # long one (about 25,000 tokens) can never fit in.
    client = make_client(max_tokens_per_minute=6000, max_new_tokens=64)
    prompts = ["short", "word " * 20_000, "also short"]
    out = await client.process_prompts_async(prompts, show_progress=False)
    assert [r.is_error for r in out] == [False, True, False]
    assert "max_tokens_per_minute is 6,000" in out[1].error_message
    assert mock.stats()["requests"] == 2  # the oversized one was never sent


def test_missing_api_key_is_raised_before_any_request(mock, make_client, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = make_client()
    with pytest.raises(MissingAPIKeyError, match="OPENAI_API_KEY"):
        client.process_prompts_sync(["never sent"])
    assert mock.stats()["requests"] == 0


async def test_api_key_never_appears_in_reprs_errors_or_actor_names(mock, make_client, monkeypatch):
    secret = "sk-test-DO-NOT-LEAK-1234567890"
    monkeypatch.setenv("OPENAI_API_KEY", secret)
    from deluge_ray.mock._validate import MockHTTPError

    def refuse(view):  # some providers quote the key they were sent
        raise MockHTTPError(401, f"Incorrect API key provided: {secret}")

    mock.script("*", refuse)
    client = make_client()
    client.open(show_progress=False)
    [resp] = await client.process_prompts_async(["leak?"])
    assert resp.is_error and resp.status_code == 401
    routes = client._routes
    spec = next(iter(client._engine.specs.values()))
    assert "Incorrect API key provided: [redacted API key]" in resp.error_message
    texts = [
        repr(client),
        resp.error_message,
        repr(resp),
        json.dumps(resp.to_dict()),
        repr(routes),
        repr(spec),
        client.tracker.final_summary(),
    ]
    names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
    for text in [*texts, *names]:
        assert secret not in text
    # The key did reach the provider (one request, refused), just never in the clear.
    assert mock.stats()["requests"] == 1
    assert secret not in str(mock.stats())
    client.close()


def truncated_png() -> Image:
    buf = io.BytesIO()
    PILImage.new("RGB", (64, 64), "blue").save(buf, "PNG")
    return Image(buf.getvalue()[:60])  # the PNG signature passes, the pixels do not decode


async def test_prompts_that_cannot_be_sent_fail_alone_naming_their_index(mock, make_client):
    prompts = [
        "first fine",
        "lone \ud800 surrogate",
        Conversation(),
        Conversation().user("see this", image=truncated_png()),
        [],  # an empty message list
        [{"role": "wizard", "content": "hi"}],
        "last fine",
    ]
    out = await make_client().process_prompts_async(prompts, show_progress=False)
    assert [r.is_error for r in out] == [False, True, True, True, True, True, False]
    assert out[0].completion == "Mock reply to: first fine"
    assert out[6].completion == "Mock reply to: last fine"
    assert out[1].error_message.startswith("prompts[1] was not sent: message 0 (user) contains")
    assert "lone surrogate (U+D800)" in out[1].error_message
    assert out[2].error_message.startswith("prompts[2] was not sent: the conversation is empty")
    assert "prompts[3] was not sent" in out[3].error_message
    assert "image that does not decode" in out[3].error_message
    assert out[4].error_message.startswith("prompts[4] was not sent: the conversation is empty")
    assert out[5].error_message.startswith("prompts[5] was not sent: its message list could")
    assert "wizard" in out[5].error_message
    assert mock.stats()["requests"] == 2  # only the two good prompts went out
    for response in out:
        json.dumps(response.to_dict()).encode("utf-8")  # every row stays writable


async def test_a_bad_start_nowait_task_fails_alone_and_its_neighbours_run(mock, make_client):
    client = make_client()
    client.open(show_progress=False)
    # Taken in one engine tick: one bad prompt used to fail all of them.
    ids = [client.start_nowait(p) for p in ["one", "t\udcffwo", "three", "four"]]
    out = await client.wait_for_all(ids)
    client.close()
    assert [r.is_error for r in out] == [False, True, False, False]
    assert out[1].error_message.startswith(f"the prompt of task {ids[1]} was not sent")
    assert out[2].completion == "Mock reply to: three"
    assert mock.stats()["requests"] == 3


@pytest.mark.parametrize("model", ["claude-4.5-haiku", "gemini-2.5-flash"])
async def test_system_only_fails_alone_where_the_provider_needs_a_user_turn(
    mock, make_client, model
):
    prompts = [Conversation().system("Only rules."), "a question"]
    out = await make_client(model).process_prompts_async(prompts, show_progress=False)
    assert [r.is_error for r in out] == [True, False]
    assert "only system messages" in out[0].error_message and model in out[0].error_message
    assert mock.stats()["requests"] == 1


def add(a: int, b: int) -> int:
    """Add two numbers."""
    return a + b


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(tools=Tool.from_function(add)), "tools must be a list"),
        (dict(tools=[42]), r"tools\[0\] is an int"),
        (dict(output_schema=42), "output_schema must be"),
    ],
)
async def test_unusable_tools_or_schema_raise_at_the_call(mock, make_client, kwargs, match):
    client = make_client()
    with pytest.raises(ConfigurationError, match=match):
        await client.process_prompts_async(["x", "y"], show_progress=False, **kwargs)
    client.open(show_progress=False)
    with pytest.raises(ConfigurationError, match=match):
        client.start_nowait("z", **kwargs)
    client.close()
    assert mock.stats()["requests"] == 0
