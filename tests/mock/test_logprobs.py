"""Chat completions with ``logprobs`` / ``top_logprobs``: shape, determinism, streaming."""

from __future__ import annotations

import json
import math

import aiohttp
import openai
import pytest

from deluge_ray.api_requests import parse_response
from deluge_ray.mock import Reply
from deluge_ray.mock._logprobs import split_tokens, token_logprobs
from deluge_ray.models import get_model
from tests.support.openapi import validate

HEADERS = {"Authorization": "Bearer sk-test"}
ANSWER = "Yes, the mock answers: 42 é!"


def _body(**extra):
    return {"model": "gpt-4.1-mini", "messages": [{"role": "user", "content": "q"}], **extra}


async def _post(mock, body):
    async with aiohttp.ClientSession() as session:
        url = f"{mock.openai_base_url}/chat/completions"
        async with session.post(url, headers=HEADERS, json=body) as response:
            return response.status, await response.text()


def test_tokens_join_back_to_the_text_and_numbers_are_deterministic():
    assert "".join(split_tokens(ANSWER)) == ANSWER
    first, again = token_logprobs(ANSWER, 5), token_logprobs(ANSWER, 5)
    assert first == again
    for entry in first:
        top = entry["top_logprobs"]
        assert len(top) == 5 and top[0]["token"] == entry["token"]
        assert top[0]["logprob"] == entry["logprob"] and entry["logprob"] < 0
        assert [t["logprob"] for t in top] == sorted((t["logprob"] for t in top), reverse=True)
        assert len({t["token"] for t in top}) == 5
        assert sum(math.exp(t["logprob"]) for t in top) < 1.0
        assert bytes(entry["bytes"]).decode() == entry["token"]
    assert token_logprobs(ANSWER, None)[0]["top_logprobs"] == []


async def test_chat_completion_logprobs_validate_and_parse(mock):
    mock.script("*", [Reply.text(ANSWER)])
    status, text = await _post(mock, _body(logprobs=True, top_logprobs=3))
    assert status == 200, text
    data = json.loads(text)
    validate("CreateChatCompletionResponse", data)
    content = data["choices"][0]["logprobs"]["content"]
    assert "".join(e["token"] for e in content) == ANSWER
    assert all(len(e["top_logprobs"]) == 3 for e in content)
    # A yes/no token's first alternative is the opposite answer.
    assert [t["token"] for t in content[0]["top_logprobs"][:2]] == ["Yes", "No"]
    parsed = parse_response(get_model("gpt-4.1-mini"), 200, {}, text.encode())
    assert parsed.logprobs == content


async def test_no_logprobs_unless_asked(mock):
    _, text = await _post(mock, _body())
    assert json.loads(text)["choices"][0]["logprobs"] is None
    _, text = await _post(mock, _body(logprobs=True))
    (choice,) = json.loads(text)["choices"]
    assert choice["logprobs"]["content"] and choice["logprobs"]["content"][0]["top_logprobs"] == []


async def test_streamed_logprobs_join_to_the_non_streamed_ones(mock):
    mock.script("*", [Reply.text(ANSWER), Reply.text(ANSWER)])
    _, plain = await _post(mock, _body(logprobs=True, top_logprobs=2))
    _, streamed = await _post(mock, _body(logprobs=True, top_logprobs=2, stream=True))
    frames = [f[len("data: ") :] for f in streamed.split("\n\n") if f]
    chunks = [json.loads(f) for f in frames[:-1]]
    for chunk in chunks:
        validate("CreateChatCompletionStreamResponse", chunk)
    joined = [
        entry
        for chunk in chunks
        for choice in chunk["choices"]
        if choice["logprobs"]
        for entry in choice["logprobs"]["content"]
    ]
    assert joined == json.loads(plain)["choices"][0]["logprobs"]["content"]


async def test_the_openai_sdk_reads_the_logprobs(mock):
    mock.script("*", [Reply.text("No.")])
    client = openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="k")
    done = await client.chat.completions.create(**_body(logprobs=True, top_logprobs=4))
    await client.close()
    first = done.choices[0].logprobs.content[0]
    assert first.token == "No" and [t.token for t in first.top_logprobs][:2] == ["No", "Yes"]


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": -1}, "top_logprobs"),
        ({"top_logprobs": 2}, "'logprobs' must be set to true"),
        ({"logprobs": "yes"}, "logprobs"),
    ],
)
async def test_bad_logprob_options_are_400s_naming_the_field(mock, extra, words):
    status, text = await _post(mock, _body(**extra))
    assert status == 400
    error = json.loads(text)["error"]
    assert words in error["message"] and error["param"] in ("logprobs", "top_logprobs")
