"""Conversations and responses for the cache tests: text, tool calls, thinking and usage."""

from __future__ import annotations

import dataclasses

from deluge_ray.api_requests.response import APIResponse, Usage
from deluge_ray.config import SamplingParams
from deluge_ray.prompt import Conversation, Message, Text, Thinking, ToolCall


def conversation(i: int) -> Conversation:
    """A distinct two-message conversation per ``i``."""
    return Conversation.system("You are terse.").user(f"Question number {i}?")


def response(i: int, prompt: Conversation | None = None, *, error: bool = False) -> APIResponse:
    """A rich successful response (or, with ``error=True``, a failed one) for prompt ``i``."""
    if error:
        return APIResponse(
            id=i,
            model_internal="gpt-4.1-mini",
            prompt=prompt or conversation(i),
            sampling_params=SamplingParams(),
            status_code=500,
            is_error=True,
            error_message="server exploded",
        )
    content = Message(
        "assistant",
        [
            Thinking(f"thinking about {i}", signature=f"sig-{i}"),
            Text(f"answer {i}"),
            ToolCall(f"call_{i}", "lookup", {"query": f"q{i}", "limit": i, "tags": ["a", "b"]}),
        ],
    )
    return APIResponse(
        id=i,
        model_internal="gpt-4.1-mini",
        prompt=prompt or conversation(i),
        sampling_params=SamplingParams(temperature=0.25, max_new_tokens=64),
        status_code=200,
        is_error=False,
        error_message=None,
        usage=Usage(
            input_tokens=11 + i, output_tokens=7, cache_read_tokens=3, cache_write_tokens=2
        ),
        content=content,
        thinking=f"thinking about {i}",
        model_external="gpt-4.1-mini-2025-04-14",
        finish_reason="tool_calls",
        cost=0.0125,
        response_id=f"resp_{i}",
        raw_response={"id": f"resp_{i}", "nested": {"values": [1, 2.5, None, True]}},
    )


def assert_same_response(hit: APIResponse | None, original: APIResponse, prompt) -> None:
    """``hit`` equals ``original`` except that it is marked as a local cache hit."""
    assert hit is not None, "expected a cache hit"
    assert hit.local_cache_hit is True
    assert hit.prompt is prompt
    assert dataclasses.replace(hit, local_cache_hit=False, prompt=original.prompt) == original
    assert hit.completion == original.completion
    assert hit.content.tool_calls[0].arguments == original.content.tool_calls[0].arguments
    assert hit.content.thinking_parts[0].signature == original.content.thinking_parts[0].signature
    assert hit.usage == original.usage
