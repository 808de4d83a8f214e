"""Client scripts from the seeds, run with lm-deluge 0.0.168 and deluge_ray on the mock.

Both clients call the same mock provider (lm-deluge through a registry entry whose
``api_base`` is the mock, since 0.0.168 does not read ``OPENAI_BASE_URL``); the answers
are compared field by field where they must agree.
"""

from __future__ import annotations

import lm_deluge
import pytest

from deluge_ray import LLMClient
from deluge_ray.mock import use_mock

from ..support.clients import CLIENT_DEFAULTS, mock_fixtures

mock_server, mock, _ = mock_fixtures(latency_ms=1)

PROMPTS = ["Say hello.", "Name a colour.", "Count to three."]
ORACLE_ID = "compat-gpt-4.1-mini-on-mock"


@pytest.fixture(scope="module")
def our_client(ray_cluster, mock_server):
    """One deluge_ray client for the module: starting a client's caller costs ~2 s."""
    with use_mock(mock_server):
        client = LLMClient("gpt-4.1-mini", **{**CLIENT_DEFAULTS, "max_new_tokens": 64})
        yield client
        client.shutdown()


@pytest.fixture
def oracle_client(mock, monkeypatch):
    from lm_deluge.models import register_model

    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-compat")
    register_model(
        id=ORACLE_ID,
        name="gpt-4.1-mini-2025-04-14",
        api_base=mock.openai_base_url,
        api_key_env_var="OPENAI_API_KEY",
        api_spec="openai",
        provider="openai",
        supports_json=True,
        supports_logprobs=True,
    )
    return lm_deluge.LLMClient(ORACLE_ID, progress="manual", max_new_tokens=64)


def _fields(resp):
    return (
        resp.is_error,
        resp.completion,
        resp.finish_reason,
        resp.output_tokens,
        resp.input_tokens + (resp.cache_read_tokens or 0),
    )


async def test_process_prompts_async_gives_the_same_answers(oracle_client, our_client):
    ours = await our_client.process_prompts_async(PROMPTS)
    theirs = await oracle_client.process_prompts_async(PROMPTS, show_progress=False)
    assert [_fields(r) for r in ours] == [_fields(r) for r in theirs]
    assert all(not r.is_error and r.completion for r in ours)


async def test_return_completions_only(oracle_client, our_client):
    ours = await our_client.process_prompts_async(PROMPTS, return_completions_only=True)
    theirs = await oracle_client.process_prompts_async(
        PROMPTS, return_completions_only=True, show_progress=False
    )
    assert ours == theirs


async def test_conversation_prompts_and_costs(oracle_client, our_client):
    convs = [lambda lib, p=p: lib.Conversation().system("Be brief.").user(p) for p in PROMPTS]
    import deluge_ray

    ours = await our_client.process_prompts_async([c(deluge_ray) for c in convs])
    theirs = await oracle_client.process_prompts_async(
        [c(lm_deluge) for c in convs], show_progress=False
    )
    assert [r.completion for r in ours] == [r.completion for r in theirs]
    assert all(r.cost and r.cost > 0 for r in ours)
