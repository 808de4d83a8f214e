"""The official openai SDK, pointed at the mock, completes every call the issue lists."""

from __future__ import annotations

import json

import openai
import pytest

from deluge_ray._tokens import count_text_tokens
from deluge_ray.mock import Limits, MockConfig, Reply


def _client(mock, **kw) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=mock.openai_base_url, api_key="sk-test", **kw)


async def test_chat_completion_echoes_prompt_with_consistent_usage(mock):
    client = _client(mock)
    result = await client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "What is the capital of France?"},
        ],
    )
    text = result.choices[0].message.content
    assert "What is the capital of France?" in text
    expected_in = (
        count_text_tokens("be brief") + count_text_tokens("What is the capital of France?") + 8
    )
    assert result.usage.prompt_tokens == expected_in
    assert result.usage.completion_tokens == count_text_tokens(text)
    assert result.choices[0].finish_reason == "stop"


async def test_streamed_chat_completion_reassembles_and_reports_usage(mock):
    client = _client(mock)
    stream = await client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "count to five please, slowly"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage, finish = [], None, None
    async for chunk in stream:
        if chunk.choices:
            pieces.append(chunk.choices[0].delta.content or "")
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    text = "".join(pieces)
    assert text == "Mock reply to: count to five please, slowly"
    assert len([p for p in pieces if p]) > 3  # really streamed in pieces
    assert finish == "stop"
    assert usage.completion_tokens == count_text_tokens(text)


async def test_max_tokens_caps_output_with_length_finish(mock):
    client = _client(mock)
    result = await client.chat.completions.create(
        model="gpt-4.1-mini",
        messages=[{"role": "user", "content": "word " * 200}],
        max_tokens=5,
    )
    assert result.choices[0].finish_reason == "length"
    assert result.usage.completion_tokens <= 5
    assert result.usage.completion_tokens == count_text_tokens(result.choices[0].message.content)


async def test_responses_call(mock):
    client = _client(mock)
    result = await client.responses.create(
        model="gpt-4.1-mini", input="Say hi", instructions="You are terse."
    )
    assert result.status == "completed"
    assert result.output_text == "Mock reply to: Say hi"
    assert (
        result.usage.input_tokens
        == count_text_tokens("Say hi") + count_text_tokens("You are terse.") + 8
    )


async def test_embeddings_are_deterministic_per_text(mock):
    client = _client(mock)
    first = await client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    again = await client.embeddings.create(model="text-embedding-3-small", input="a", dimensions=64)
    same = await client.embeddings.create(model="text-embedding-3-small", input=["a"])
    assert len(first.data) == 2
    assert first.data[0].embedding == pytest.approx(same.data[0].embedding)
    assert first.data[0].embedding != pytest.approx(first.data[1].embedding)
    assert len(again.data[0].embedding) == 64


async def test_tool_call_round_trip(mock):
    mock.script(
        "gpt-4.1-mini",
        lambda view: (
            Reply.text(f"The sum is {view.tool_results[-1]['content']}")
            if view.has_tool_result
            else Reply.tool_call("add", {"a": 2, "b": 3})
        ),
    )
    client = _client(mock)
    tools = [
        {
            "type": "function",
            "function": {
                "name": "add",
                "description": "Add two integers",
                "parameters": {
                    "type": "object",
                    "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                    "required": ["a", "b"],
                },
            },
        }
    ]
    messages = [{"role": "user", "content": "What is 2 + 3?"}]
    first = await client.chat.completions.create(
        model="gpt-4.1-mini", messages=messages, tools=tools
    )
    call = first.choices[0].message.tool_calls[0]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "add"
    args = json.loads(call.function.arguments)
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": str(args["a"] + args["b"])},
    ]
    second = await client.chat.completions.create(
        model="gpt-4.1-mini", messages=messages, tools=tools
    )
    assert second.choices[0].message.content == "The sum is 5"
    assert second.choices[0].finish_reason == "stop"


async def test_rate_limit_error_and_retry_after_are_obeyed(make_mock):
    mock = await make_mock(MockConfig(limits=Limits(rpm=60), seed=1))
    strict = _client(mock, max_retries=0)
    await strict.chat.completions.create(model="m", messages=[{"role": "user", "content": "one"}])
    with pytest.raises(openai.RateLimitError) as caught:
        await strict.chat.completions.create(
            model="m", messages=[{"role": "user", "content": "two"}]
        )
    headers = caught.value.response.headers
    wait_ms = int(headers["retry-after-ms"])
    assert 0 < wait_ms <= 1000
    assert caught.value.body["code"] == "rate_limit_exceeded"
    # A retrying client waits the advertised time once and then succeeds: had it retried
    # early it would have been refused again (60 RPM holds one request per second).
    patient = _client(mock, max_retries=2)
    await patient.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
    stats = mock.stats()
    assert stats["rate_limited"] == 2
    assert stats["by_status"]["200"] == 2
