"""``deluge_ray.api_requests.openai.stream_chat``: the entry point the API reference names."""

from __future__ import annotations

from deluge_ray.api_requests import APIResponse
from deluge_ray.api_requests import openai as openai_api
from deluge_ray.mock import use_mock

ANSWER = "alpha beta gamma delta epsilon"


async def test_yields_deltas_then_the_final_response(mock):
    mock.script("*", [ANSWER])
    with use_mock(mock):
        items = [item async for item in openai_api.stream_chat("gpt-4.1-mini", "Say it")]
    *deltas, final = items
    assert len(deltas) > 1 and all(isinstance(d, str) for d in deltas)
    assert isinstance(final, APIResponse)
    assert "".join(deltas) == ANSWER == final.completion
    assert not final.is_error and final.output_tokens > 0
    assert mock.stats()["requests"] == 1


async def test_keyword_options_reach_the_stream(mock):
    mock.script("*", [ANSWER])
    with use_mock(mock):
        items = [
            item
            async for item in openai_api.stream_chat(
                "claude-4.5-haiku", "Say it", request_timeout=5.0
            )
        ]
    assert items[-1].completion == ANSWER
    assert items[-1].model_internal == "claude-4.5-haiku"


async def test_stopping_early_closes_the_underlying_stream(mock, monkeypatch):
    from deluge_ray.api_requests import streaming

    closed: list[bool] = []
    real = streaming.stream_chat

    async def watched(*args, **kwargs):
        try:
            async for item in real(*args, **kwargs):
                yield item
        finally:
            closed.append(True)

    monkeypatch.setattr(streaming, "stream_chat", watched)
    mock.script("*", [ANSWER])
    with use_mock(mock):
        stream = openai_api.stream_chat("gpt-4.1-mini", "Say it")
        first = await stream.__anext__()
        await stream.aclose()
    assert isinstance(first, str) and ANSWER.startswith(first)
    assert closed == [True], "closing the wrapper must close the real stream (and its HTTP)"
