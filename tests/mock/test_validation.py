"""Bad input gets each provider's error shape and status: never a 500, never a hang."""

from __future__ import annotations

import aiohttp
import pytest

from deluge_ray.mock import MockConfig

OPENAI = {"Authorization": "Bearer sk-test"}
ANTHROPIC = {"x-api-key": "sk-ant", "anthropic-version": "2023-06-01"}
GEMINI = {"x-goog-api-key": "g-key"}


async def _post(url, *, json=None, data=None, headers=None):
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json=json, data=data, headers=headers) as response:
            return response.status, await response.json()


def _assert_openai_error(body, param=None):
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    if param is not None:
        assert error["param"] == param
        assert param in error["message"]


@pytest.mark.parametrize(
    ("payload", "param"),
    [
        ({"messages": [{"role": "user", "content": "hi"}]}, "model"),
        ({"model": "m"}, "messages"),
        ({"model": "m", "messages": "hello"}, "messages"),
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": 5}]}, "messages[0].content"),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": "9"},
            "max_tokens",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": 0},
            "max_tokens",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "x"}], "tools": [{}]},
            "tools[0].function",
        ),
        ({"model": 12, "messages": [{"role": "user", "content": "x"}]}, "model"),
    ],
)
async def test_openai_chat_field_errors_name_the_field(mock, payload, param):
    status, body = await _post(
        f"{mock.openai_base_url}/chat/completions", json=payload, headers=OPENAI
    )
    assert status == 400
    _assert_openai_error(body, param)


async def test_invalid_json_and_non_object_bodies(mock):
    for data in (b"{not json", b"[1, 2]", b"\xff\xfe"):
        status, body = await _post(
            f"{mock.openai_base_url}/chat/completions", data=data, headers=OPENAI
        )
        assert status == 400
        _assert_openai_error(body)
    status, body = await _post(f"{mock.url}/v1/messages", data=b"{", headers=ANTHROPIC)
    assert status == 400 and body["type"] == "error"


async def test_missing_key_gets_401_in_each_shape(mock):
    status, body = await _post(
        f"{mock.openai_base_url}/chat/completions",
        json={"model": "m", "messages": [{"role": "user", "content": "x"}]},
    )
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    status, body = await _post(
        f"{mock.url}/v1/messages",
        json={"model": "m", "max_tokens": 5, "messages": []},
        headers={"anthropic-version": "2023-06-01"},
    )
    assert status == 401 and body["error"]["type"] == "authentication_error"
    status, body = await _post(
        f"{mock.gemini_base_url}/models/g:generateContent", json={"contents": []}
    )
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"


async def test_anthropic_errors_use_anthropic_shape(mock):
    cases = [
        ({"model": "m", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
            "messages.0.role",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "video"}]}],
            },
            "messages.0.content.0.type",
        ),
    ]
    for payload, field in cases:
        status, body = await _post(f"{mock.url}/v1/messages", json=payload, headers=ANTHROPIC)
        assert status == 400
        assert body["type"] == "error"
        assert body["error"]["type"] == "invalid_request_error"
        assert field in body["error"]["message"]


async def test_gemini_errors_use_google_shape(mock):
    url = f"{mock.gemini_base_url}/models/gemini-2.0-flash:generateContent"
    status, body = await _post(url, json={"contents": "hi"}, headers=GEMINI)
    assert status == 400
    assert body["error"]["status"] == "INVALID_ARGUMENT" and body["error"]["code"] == 400
    assert "contents" in body["error"]["message"]
    status, body = await _post(
        f"{mock.gemini_base_url}/models/g:explode", json={"contents": []}, headers=GEMINI
    )
    assert status == 404 and body["error"]["status"] == "NOT_FOUND"


async def test_unknown_model_when_a_model_list_is_configured(make_mock):
    mock = await make_mock(MockConfig(known_models=frozenset({"gpt-4.1-mini"})))
    status, body = await _post(
        f"{mock.openai_base_url}/chat/completions",
        json={"model": "gpt-9", "messages": [{"role": "user", "content": "x"}]},
        headers=OPENAI,
    )
    assert status == 404
    assert body["error"]["code"] == "model_not_found" and "gpt-9" in body["error"]["message"]
    status, body = await _post(
        f"{mock.url}/v1/messages",
        json={"model": "claude-9", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
        headers=ANTHROPIC,
    )
    assert status == 404 and body["error"]["type"] == "not_found_error"
    status, _ = await _post(
        f"{mock.openai_base_url}/chat/completions",
        json={"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "x"}]},
        headers=OPENAI,
    )
    assert status == 200


async def test_unknown_paths_and_methods_answer_in_json(mock):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{mock.openai_base_url}/chat/completions") as response:
            assert response.status == 405
            assert "error" in await response.json()
        async with session.post(f"{mock.url}/v2/nothing", headers=OPENAI) as response:
            assert response.status == 404
            assert "error" in await response.json()


async def test_every_bad_request_is_counted_in_stats(mock):
    await _post(f"{mock.openai_base_url}/chat/completions", data=b"{", headers=OPENAI)
    await _post(f"{mock.openai_base_url}/embeddings", json={"model": "e"}, headers=OPENAI)
    stats = mock.stats()
    assert stats["by_status"] == {"400": 2}
    assert stats["in_flight"] == 0
