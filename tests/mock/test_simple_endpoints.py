"""Embeddings and rerank get injected faults and rate-limit headers; Gemini file routes."""

from __future__ import annotations

import json

import aiohttp
import pytest

from deluge_ray.mock import Faults, Limits, MockConfig, use_mock
from deluge_ray.prompt import File

HEADERS = {"Authorization": "Bearer sk-test"}
EMBED = ("embeddings", {"model": "text-embedding-3-small", "input": ["a b", "c"]})
RERANK = ("rerank", {"model": "rerank-v3.5", "query": "cats", "documents": ["dogs", "cats"]})


async def _post(mock, endpoint: str, body: dict):
    async with aiohttp.ClientSession() as session:
        url = f"{mock.url}/v1/{endpoint}"
        async with session.post(url, json=body, headers=HEADERS) as response:
            return response.status, dict(response.headers), await response.read()


@pytest.mark.parametrize(("endpoint", "body"), [EMBED, RERANK])
@pytest.mark.parametrize(
    ("fault", "status"), [("server_error", 500), ("unavailable", 503), ("overloaded", 529)]
)
async def test_status_faults_reach_embeddings_and_rerank(make_mock, endpoint, body, fault, status):
    mock = await make_mock(MockConfig(faults=Faults(**{fault: 1.0})))
    got, _, raw = await _post(mock, endpoint, body)
    assert got == status
    error = json.loads(raw)
    # OpenAI's error object for embeddings; Cohere's flat {"message": ...} for rerank.
    message = error["error"]["message"] if endpoint == "embeddings" else error["message"]
    assert "injected by the mock" in message
    assert mock.stats()["faults"] == {fault: 1}
    assert mock.stats()["by_status"] == {str(status): 1}


@pytest.mark.parametrize(("endpoint", "body"), [EMBED, RERANK])
async def test_dropped_and_malformed_answers(make_mock, endpoint, body):
    reset = await make_mock(MockConfig(faults=Faults(connection_reset=1.0)))
    with pytest.raises(aiohttp.ClientError):
        await _post(reset, endpoint, body)
    assert reset.stats()["by_status"] == {"0": 1}
    broken = await make_mock(MockConfig(faults=Faults(malformed_json=1.0)))
    status, _, raw = await _post(broken, endpoint, body)
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


async def test_no_faults_means_clean_answers(mock):
    for endpoint, body in (EMBED, RERANK):
        status, _, raw = await _post(mock, endpoint, body)
        assert status == 200 and json.loads(raw)
    assert mock.stats()["faults"] == {}


async def test_rerank_carries_rate_limit_headers_and_429s(make_mock):
    mock = await make_mock(MockConfig(limits=Limits(rpm=60, tpm=60_000, burst_seconds=1.0)))
    status, headers, _ = await _post(mock, *RERANK)
    assert status == 200
    assert headers["x-ratelimit-limit-requests"] == "60"
    assert headers["x-ratelimit-remaining-requests"] == "59"
    assert headers["x-ratelimit-limit-tokens"] == "60000"
    assert "x-ratelimit-reset-requests" in headers
    status, headers, raw = await _post(mock, *RERANK)
    assert status == 429
    assert int(headers["retry-after-ms"]) > 0 and "Rate limit" in json.loads(raw)["message"]


async def test_gemini_uploaded_file_can_be_read_and_deleted(mock):
    with use_mock(mock):
        remote = await File(b"%PDF-1.4 gemini", filename="g.pdf").as_remote("gemini")
        name = remote.file_id.rsplit("/", 1)[-1]
        url = f"{mock.gemini_base_url}/files/{name}"
        key = {"x-goog-api-key": "k"}
        async with aiohttp.ClientSession() as session:
            async with session.get(url, headers=key) as got:
                info = await got.json()
            assert got.status == 200 and info["name"] == f"files/{name}"
            assert info["uri"] == remote.file_id and info["displayName"] == "g.pdf"
            assert await remote.delete() is True
            async with session.get(url, headers=key) as gone:
                error = await gone.json()
            assert gone.status == 404 and error["error"]["status"] == "NOT_FOUND"
            async with session.delete(url, headers=key) as again:
                assert again.status == 404
