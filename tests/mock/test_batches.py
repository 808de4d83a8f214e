"""Mock batch jobs: cancelling while validating, and jobs that fail or expire.

The failure shapes are checked both with the official SDKs' models and through
``deluge_ray.transport._batch_jobs.wait_for_batch_job``, which must surface the provider's reason.
"""

from __future__ import annotations

import anthropic
import openai
import pytest

from deluge_ray.errors import ConfigurationError, ProviderError
from deluge_ray.mock import MockConfig, use_mock
from deluge_ray.transport._batch_jobs import submit_batch_job, wait_for_batch_job

PROMPTS = [f"question {i}" for i in range(4)]


async def _openai_batch(client: openai.AsyncOpenAI, lines: int = 2) -> openai.types.Batch:
    body = "".join(
        f'{{"custom_id": "{i}", "method": "POST", "url": "/v1/chat/completions", '
        f'"body": {{"model": "gpt-4.1-mini", "messages": [{{"role": "user", "content": "q{i}"}}]}}}}\n'
        for i in range(lines)
    )
    upload = await client.files.create(file=("in.jsonl", body.encode()), purpose="batch")
    return await client.batches.create(
        input_file_id=upload.id, endpoint="/v1/chat/completions", completion_window="24h"
    )


async def _until_done(client: openai.AsyncOpenAI, batch_id: str) -> openai.types.Batch:
    while True:
        batch = await client.batches.retrieve(batch_id)
        if batch.status in ("completed", "failed", "expired", "cancelled"):
            return batch


async def test_cancel_while_validating_stops_the_job(make_mock):
    # Validation alone would take 30 s: the job ends only because the cancel is honoured.
    mock = await make_mock(MockConfig(batch_seconds=60.0))
    client = openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="k")
    batch = await _openai_batch(client)
    assert batch.status == "validating"
    cancelling = await client.batches.cancel(batch.id)
    assert cancelling.status == "cancelling"
    done = await _until_done(client, batch.id)
    await client.close()
    assert done.status == "cancelled" and done.cancelled_at is not None
    assert done.output_file_id is None and done.in_progress_at is None
    assert "batch:/v1/chat/completions" not in mock.stats()["by_endpoint"]


async def test_openai_failed_and_expired_jobs_have_the_real_shapes(make_mock):
    mock = await make_mock(MockConfig(batch_outcome="failed"))
    client = openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="k")
    failed = await _until_done(client, (await _openai_batch(client)).id)
    assert failed.status == "failed" and failed.failed_at is not None
    (error,) = failed.errors.data
    assert error.code == "token_limit_exceeded" and "gpt-4.1-mini" in error.message

    mock.config.batch_outcome = "expired"
    expired = await _until_done(client, (await _openai_batch(client, lines=4)).id)
    assert expired.status == "expired" and expired.expired_at is not None
    assert expired.request_counts.completed == 2 and expired.request_counts.failed == 2
    errors = (await client.files.content(expired.error_file_id)).text.splitlines()
    await client.close()
    assert len(errors) == 2 and all('"batch_expired"' in line for line in errors)


async def test_anthropic_failed_and_expired_results_parse_with_the_sdk(make_mock):
    mock = await make_mock(MockConfig(batch_outcome="expired"))
    client = anthropic.AsyncAnthropic(base_url=mock.url, api_key="k")
    requests = [
        {
            "custom_id": str(i),
            "params": {
                "model": "claude-4.5-haiku",
                "max_tokens": 10,
                "messages": [{"role": "user", "content": "hi"}],
            },
        }
        for i in range(4)
    ]
    for outcome, expected in (("expired", ["succeeded"] * 2 + ["expired"] * 2), ("failed", None)):
        mock.config.batch_outcome = outcome
        batch = await client.messages.batches.create(requests=requests)
        while batch.processing_status != "ended":
            batch = await client.messages.batches.retrieve(batch.id)
        kinds = [r.result.type async for r in await client.messages.batches.results(batch.id)]
        if expected is None:
            assert kinds == ["errored"] * 4 and batch.request_counts.errored == 4
        else:
            assert kinds == expected and batch.request_counts.expired == 2
    await client.close()


def test_unknown_batch_outcome_is_refused():
    with pytest.raises(ConfigurationError, match="batch_outcome"):
        MockConfig(batch_outcome="exploded")  # type: ignore[arg-type]


# -- through deluge_ray.transport._batch_jobs ----------------------------------------------------------


async def _wait(mock, model: str, provider: str):
    with use_mock(mock):
        ids = await submit_batch_job(model, PROMPTS)
        return await wait_for_batch_job(ids, provider, poll_interval=0.01, show_progress=False)


async def test_wait_for_batch_job_raises_the_openai_failure_reason(make_mock):
    mock = await make_mock(MockConfig(batch_outcome="failed"))
    with pytest.raises(ProviderError, match="failed: token_limit_exceeded: Enqueued token limit"):
        await _wait(mock, "gpt-4.1-mini", "openai")


@pytest.mark.parametrize(
    ("model", "provider", "reason"),
    [
        ("gpt-4.1-mini", "openai", "could not be executed before the completion window expired"),
        ("claude-4.5-haiku", "anthropic", "Batch request expired"),
    ],
)
async def test_wait_for_batch_job_reports_expired_requests(make_mock, model, provider, reason):
    mock = await make_mock(MockConfig(batch_outcome="expired"))
    results = await _wait(mock, model, provider)
    assert [r.is_error for r in results] == [False, False, True, True]
    assert all(reason in r.error_message for r in results[2:])
    assert all(r.completion for r in results[:2])


async def test_wait_for_batch_job_reports_anthropic_errored_requests(make_mock):
    mock = await make_mock(MockConfig(batch_outcome="failed"))
    results = await _wait(mock, "claude-4.5-haiku", "anthropic")
    assert len(results) == len(PROMPTS)
    assert all(r.is_error for r in results)
    assert all("errored: Internal server error" in r.error_message for r in results)
