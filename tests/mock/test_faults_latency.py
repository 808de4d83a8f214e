"""Injected faults and latency: every kind, reproducible from the seed."""

from __future__ import annotations

import asyncio
import json
import random

import aiohttp
import anthropic
import openai
import pytest

from deluge_ray.mock import Faults, Latency, MockConfig

HEADERS = {"Authorization": "Bearer sk-test"}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "hello there general"}]}


async def _status(session, url, payload=CHAT):
    async with session.post(url, json=payload, headers=HEADERS) as response:
        return response.status, await response.read()


@pytest.mark.parametrize(
    ("fault", "status"), [("server_error", 500), ("unavailable", 503), ("overloaded", 529)]
)
async def test_status_faults_in_provider_shape(make_mock, fault, status):
    mock = await make_mock(MockConfig(faults=Faults(**{fault: 1.0})))
    async with aiohttp.ClientSession() as session:
        got, body = await _status(session, f"{mock.openai_base_url}/chat/completions")
    assert got == status and "error" in json.loads(body)
    client = anthropic.AsyncAnthropic(base_url=mock.url, api_key="k", max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        await client.messages.create(
            model="c", max_tokens=9, messages=[{"role": "user", "content": "x"}]
        )
    assert caught.value.status_code == status
    if status == 529:
        assert caught.value.body["error"]["type"] == "overloaded_error"
    assert mock.stats()["faults"] == {fault: 2}


async def test_connection_reset_and_malformed_json(make_mock):
    mock = await make_mock(MockConfig(faults=Faults(connection_reset=1.0)))
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientError):
            await _status(session, f"{mock.openai_base_url}/chat/completions")
    broken = await make_mock(MockConfig(faults=Faults(malformed_json=1.0)))
    async with aiohttp.ClientSession() as session:
        status, body = await _status(session, f"{broken.openai_base_url}/chat/completions")
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)


async def test_hang_outlasts_client_timeout(make_mock):
    mock = await make_mock(MockConfig(faults=Faults(hang=1.0, hang_seconds=1.0)))
    client = openai.AsyncOpenAI(
        base_url=mock.openai_base_url, api_key="k", max_retries=0, timeout=0.3
    )
    with pytest.raises(openai.APITimeoutError):
        await client.chat.completions.create(**CHAT)


async def test_truncated_stream_ends_without_done(make_mock):
    mock = await make_mock(MockConfig(faults=Faults(truncated_stream=1.0)))
    text = b""
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{mock.openai_base_url}/chat/completions",
            json={**CHAT, "stream": True},
            headers=HEADERS,
        ) as response:
            assert response.status == 200
            with pytest.raises(aiohttp.ClientPayloadError):
                async for line in response.content:
                    text += line
    assert text.startswith(b"data: ") and b"[DONE]" not in text
    assert mock.stats()["by_status"] == {"0": 1}


async def test_fault_sequence_is_reproducible_from_the_seed(make_mock):
    sequences = []
    for _ in range(2):
        mock = await make_mock(MockConfig(faults=Faults(server_error=0.3, overloaded=0.2), seed=42))
        async with aiohttp.ClientSession() as session:
            sequences.append(
                [
                    (await _status(session, f"{mock.openai_base_url}/chat/completions"))[0]
                    for _ in range(30)
                ]
            )
    assert sequences[0] == sequences[1]
    assert set(sequences[0]) == {200, 500, 529}


def test_lognormal_latency_has_the_configured_median_and_tail():
    latency = Latency.lognormal(100, 400)
    rng = random.Random(5)
    draws = sorted(latency.sample_seconds(rng) for _ in range(20_000))
    assert draws[len(draws) // 2] == pytest.approx(0.100, rel=0.05)
    assert draws[int(len(draws) * 0.99)] == pytest.approx(0.400, rel=0.1)
    assert Latency.fixed(25).sample_seconds(rng) == 0.025


def test_fault_rates_are_checked():
    with pytest.raises(ValueError, match="sum"):
        Faults(server_error=0.7, unavailable=0.5)
    spread = Faults.spread(0.3)
    assert spread.server_error == spread.unavailable == spread.overloaded == pytest.approx(0.1)


async def test_stream_pacing_uses_ttft_and_inter_token_delay(make_mock, monkeypatch):
    # Record the sleeps the server asks for instead of measuring wall time.
    asked: list[float] = []
    real_sleep = asyncio.sleep

    async def recording_sleep(seconds, *args, **kwargs):
        asked.append(seconds)
        await real_sleep(0)

    mock = await make_mock(MockConfig(latency=Latency.fixed(30, ttft_ms=200, inter_token_ms=15)))
    monkeypatch.setattr("deluge_ray.mock._core.asyncio.sleep", recording_sleep)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{mock.openai_base_url}/chat/completions",
            json={**CHAT, "stream": True},
            headers=HEADERS,
        ) as response:
            frames = (await response.text()).count("data: ")
    assert asked[0] == pytest.approx(0.030)
    assert asked[1] == pytest.approx(0.200)
    assert asked[2:] == [pytest.approx(0.015)] * (frames - 1)
