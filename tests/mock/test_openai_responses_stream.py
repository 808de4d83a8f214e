"""The mock's streamed Responses API, read by the official ``openai`` SDK's typed events."""

from __future__ import annotations

import json

import openai

from deluge_ray.mock import Reply, ToolCallReply


def _client(mock) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(api_key="sk-test", base_url=mock.openai_base_url)


async def test_a_streamed_response_reads_as_the_sdks_typed_events(mock):
    mock.script(
        "*", Reply("Let me look that up for you.", (ToolCallReply("lookup", {"q": "tides"}),))
    )
    stream = await _client(mock).responses.create(
        model="gpt-4.1-mini", input="When is high tide?", stream=True
    )
    events = [event async for event in stream]
    kinds = [type(event).__name__ for event in events]
    assert kinds[:2] == ["ResponseCreatedEvent", "ResponseInProgressEvent"]
    assert kinds[-1] == "ResponseCompletedEvent"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    deltas = [e.delta for e in events if e.type == "response.output_text.delta"]
    assert len(deltas) > 1 and "".join(deltas) == "Let me look that up for you."
    arguments = "".join(
        e.delta for e in events if e.type == "response.function_call_arguments.delta"
    )
    assert json.loads(arguments) == {"q": "tides"}
    final = events[-1].response
    assert final.output_text == "Let me look that up for you."
    assert [item.type for item in final.output] == ["message", "function_call"]
    assert final.usage.output_tokens > 0
    # Kept like any response: the id it announced can be fetched afterwards.
    fetched = await _client(mock).responses.retrieve(final.id)
    assert fetched.output_text == final.output_text


async def test_the_sdks_stream_helper_assembles_the_same_response(mock):
    mock.script("*", "Tides come twice a day.")
    async with _client(mock).responses.stream(model="gpt-4.1-mini", input="Tides?") as stream:
        text = "".join([e.delta async for e in stream if e.type == "response.output_text.delta"])
        final = await stream.get_final_response()
    assert text == final.output_text == "Tides come twice a day."
