"""Provider batch jobs against the mock: OpenAI files + batches, Anthropic message batches."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import openai
import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import MockConfig, MockProvider, Reply, use_mock
from deluge_ray.prompt import Conversation
from deluge_ray.transport._batch_jobs import _openai_failure, submit_batch_job, wait_for_batch_job

PROMPTS = [f"question {i}" for i in range(5)]


def numbered(view):
    # The reply names the prompt it answers, so the order of results can be checked.
    return Reply.text(f"answer to {view.messages[-1].text}")


@pytest.mark.parametrize(
    ("model", "provider"), [("gpt-4.1-mini", "openai"), ("claude-4.5-haiku", "anthropic")]
)
async def test_results_come_back_in_prompt_order_across_batches(mock, model, provider):
    mock.script("*", numbered)
    ids = await submit_batch_job(model, PROMPTS, batch_size=2)
    assert len(ids) == 3 and len(set(ids)) == 3  # 2 + 2 + 1 prompts
    results = await wait_for_batch_job(ids, provider, poll_interval=0.01, show_progress=False)
    assert [r.completion for r in results] == [f"answer to {p}" for p in PROMPTS]
    assert all(not r.is_error and r.output_tokens > 0 for r in results)
    # Batch prices are half the live ones.
    live = results[0].usage
    from deluge_ray.models import get_model

    full = get_model(model).cost(live.input_tokens, live.output_tokens)
    assert results[0].cost == pytest.approx(full / 2)
    endpoint = "batch:/v1/chat/completions" if provider == "openai" else "batch:/v1/messages"
    assert mock.stats()["by_endpoint"][endpoint] == len(PROMPTS)


async def test_anthropic_cache_pattern_passes_through(mock):
    seen = []

    def record(view):
        seen.append(view.body)
        return "ok"

    mock.script("*", record)
    conv = Conversation().system("You are terse.").user("hi")
    ids = await submit_batch_job("claude-4.5-haiku", [conv], cache="system_and_tools")
    await wait_for_batch_job(ids, "anthropic", poll_interval=0.01, show_progress=False)
    (body,) = seen
    assert body["system"][-1]["cache_control"] == {"type": "ephemeral"}


async def test_cancelled_openai_batch_reports_its_status_for_every_prompt():
    # A slow batch (1 s per phase), cancelled once it is running.
    async with MockProvider(MockConfig(batch_seconds=2.0)) as mock, aiohttp.ClientSession() as http:
        with use_mock(mock):
            ids = await submit_batch_job("gpt-4.1-mini", PROMPTS[:3])
            url, auth = f"{mock.openai_base_url}/batches/{ids[0]}", {"Authorization": "Bearer k"}
            while (await (await http.get(url, headers=auth)).json())["status"] != "in_progress":
                await asyncio.sleep(0.01)
            assert (await http.post(f"{url}/cancel", headers=auth)).status == 200
            results = await wait_for_batch_job(
                ids, "openai", poll_interval=0.05, show_progress=False
            )
    assert len(results) == 3
    assert all(r.is_error and "'cancelled'" in r.error_message for r in results)


async def test_per_request_errors_become_error_entries(mock):
    # A tool-use reply for a prompt whose request lacks the tool is fine; an invalid body is
    # not: extra_body puts a bad role into one request only, so just that entry fails.
    ids = await submit_batch_job(
        "gpt-4.1-mini", ["ok"], extra_body={"messages": [{"role": "wizard", "content": "x"}]}
    )
    (result,) = await wait_for_batch_job(ids, "openai", poll_interval=0.01, show_progress=False)
    assert result.is_error and result.status_code == 400
    assert "wizard" in result.error_message


async def test_progress_display_runs_while_polling(mock, capsys):
    ids = await submit_batch_job("claude-4.5-haiku", ["a", "b"])
    results = await wait_for_batch_job(ids, "anthropic", poll_interval=0.01, show_progress=True)
    assert len(results) == 2
    assert "2/2" in capsys.readouterr().out


async def test_openai_sdk_parses_the_batch_and_file_objects(mock):
    ids = await submit_batch_job("gpt-4.1-mini", ["a"])
    await wait_for_batch_job(ids, "openai", poll_interval=0.01, show_progress=False)
    async with aiohttp.ClientSession() as http:
        got = await http.get(
            f"{mock.openai_base_url}/batches/{ids[0]}", headers={"Authorization": "Bearer k"}
        )
        raw = await got.json()
    batch = openai.types.Batch.model_validate(raw)
    assert batch.status == "completed" and batch.request_counts.completed == 1
    client = openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="k")
    file = await client.files.retrieve(batch.output_file_id)
    assert isinstance(file, openai.types.FileObject) and file.purpose == "batch_output"
    content = await client.files.content(batch.output_file_id)
    assert json.loads(content.text.splitlines()[0])["custom_id"] == "0"
    await client.close()


def test_failed_batch_reason_names_the_provider_errors():
    raw = {
        "id": "batch_1",
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "input_file_id": "file-1",
        "completion_window": "24h",
        "status": "failed",
        "created_at": 1,
        "errors": {
            "object": "list",
            "data": [{"code": "invalid_json", "message": "Bad line", "line": 3}],
        },
    }
    openai.types.Batch.model_validate(raw)  # the shape is the real one
    message = _openai_failure(raw)
    assert "batch_1 failed" in message and "invalid_json: Bad line (line 3)" in message


@pytest.mark.parametrize(
    ("model", "prompts", "match"),
    [
        (["gpt-4.1-mini", "claude-4.5-haiku"], ["x"], "exactly one model"),
        ("gpt-4.1-mini", [], "at least one prompt"),
        ("gemini-2.5-flash", ["x"], "no batch API"),
        ("text-embedding-3-small", ["x"], "no batch API"),
    ],
)
async def test_bad_batch_requests_are_clear_errors(mock, model, prompts, match):
    with pytest.raises(ConfigurationError, match=match):
        await submit_batch_job(model, prompts)
    assert mock.stats()["requests"] == 0


async def test_wait_rejects_unknown_provider():
    with pytest.raises(ConfigurationError, match="provider must be one of"):
        await wait_for_batch_job(["b"], "gemini")
