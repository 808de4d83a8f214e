"""The official anthropic SDK, pointed at the mock, completes messages, streams and batches."""

from __future__ import annotations

import asyncio

import anthropic
import pytest

from deluge_ray._tokens import count_text_tokens
from deluge_ray.mock import Limits, MockConfig, Reply


def _client(mock, **kw) -> anthropic.AsyncAnthropic:
    # The SDK appends /v1 itself, so it takes the server root.
    return anthropic.AsyncAnthropic(base_url=mock.url, api_key="sk-ant-test", **kw)


async def test_message_with_usage_from_the_shared_formula(mock):
    result = await _client(mock).messages.create(
        model="claude-4.5-sonnet",
        max_tokens=200,
        system="Answer briefly.",
        messages=[{"role": "user", "content": "Name a colour."}],
    )
    assert result.content[0].text == "Mock reply to: Name a colour."
    assert result.stop_reason == "end_turn"
    assert result.usage.input_tokens == (
        count_text_tokens("Answer briefly.") + count_text_tokens("Name a colour.") + 8
    )
    assert result.usage.output_tokens == count_text_tokens(result.content[0].text)


async def test_streamed_message_with_thinking_final_message(mock):
    mock.script("claude-4.5-sonnet", Reply.thinking("Let me weigh the options here.", "Blue."))
    async with _client(mock).messages.stream(
        model="claude-4.5-sonnet", max_tokens=300, messages=[{"role": "user", "content": "Colour?"}]
    ) as stream:
        events = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "Let me weigh the options here."
    assert final.content[0].signature
    assert final.content[1].text == "Blue."
    assert final.usage.output_tokens == count_text_tokens(
        "Let me weigh the options here."
    ) + count_text_tokens("Blue.")
    assert "message_start" in events and "message_stop" in events


async def test_tool_call_round_trip(mock):
    mock.script(
        "claude-4.5-sonnet",
        lambda view: (
            "It is sunny."
            if view.has_tool_result
            else Reply.tool_call("get_weather", {"city": "Paris"})
        ),
    )
    client = _client(mock)
    tools = [
        {
            "name": "get_weather",
            "description": "Weather for a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
        }
    ]
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = await client.messages.create(
        model="claude-4.5-sonnet", max_tokens=100, tools=tools, messages=messages
    )
    assert first.stop_reason == "tool_use"
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.input == {"city": "Paris"}
    messages += [
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny"}],
        },
    ]
    second = await client.messages.create(
        model="claude-4.5-sonnet", max_tokens=100, tools=tools, messages=messages
    )
    assert second.content[0].text == "It is sunny."


async def test_streamed_tool_call_is_reassembled(mock):
    mock.script("claude-4.5-sonnet", Reply.tool_call("lookup", {"q": "ray actors", "n": 3}))
    async with _client(mock).messages.stream(
        model="claude-4.5-sonnet", max_tokens=100, messages=[{"role": "user", "content": "go"}]
    ) as stream:
        final = await stream.get_final_message()
    assert final.content[-1].input == {"q": "ray actors", "n": 3}
    assert final.stop_reason == "tool_use"


async def test_rate_limit_error_with_anthropic_headers(make_mock):
    mock = await make_mock(MockConfig(limits=Limits(rpm=60, input_tpm=60_000, output_tpm=6000)))
    client = _client(mock, max_retries=0)
    ok = await client.messages.with_raw_response.create(
        model="claude-x", max_tokens=50, messages=[{"role": "user", "content": "a"}]
    )
    assert ok.headers["anthropic-ratelimit-requests-limit"] == "60"
    assert ok.headers["anthropic-ratelimit-requests-remaining"] == "59"
    assert "anthropic-ratelimit-input-tokens-remaining" in ok.headers
    assert "anthropic-ratelimit-output-tokens-reset" in ok.headers
    with pytest.raises(anthropic.RateLimitError) as caught:
        await client.messages.create(
            model="claude-x", max_tokens=50, messages=[{"role": "user", "content": "b"}]
        )
    assert caught.value.body["error"]["type"] == "rate_limit_error"
    assert int(caught.value.response.headers["retry-after-ms"]) > 0
    # The SDK's own retry honours retry-after-ms: one more refusal, then success.
    patient = _client(mock, max_retries=2)
    await patient.messages.create(
        model="claude-x", max_tokens=50, messages=[{"role": "user", "content": "c"}]
    )
    assert mock.stats()["rate_limited"] == 2


async def test_message_batch_create_poll_results(mock):
    client = _client(mock)
    batch = await client.messages.batches.create(
        requests=[
            {
                "custom_id": f"r{i}",
                "params": {
                    "model": "claude-x",
                    "max_tokens": 50,
                    "messages": [{"role": "user", "content": f"item {i}"}],
                },
            }
            for i in range(3)
        ]
        + [{"custom_id": "bad", "params": {"model": "claude-x", "messages": []}}]
    )
    assert batch.processing_status == "in_progress"
    for _ in range(100):
        batch = await client.messages.batches.retrieve(batch.id)
        if batch.processing_status == "ended":
            break
        await asyncio.sleep(0.02)
    assert batch.request_counts.succeeded == 3 and batch.request_counts.errored == 1
    results = {r.custom_id: r.result async for r in await client.messages.batches.results(batch.id)}
    assert results["r1"].type == "succeeded"
    assert results["r1"].message.content[0].text == "Mock reply to: item 1"
    assert results["bad"].type == "errored"
