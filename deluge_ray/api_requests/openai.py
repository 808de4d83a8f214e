"""OpenAI chat completions (``POST {base}/chat/completions``): pure build and parse.

Also the wire format of every OpenAI-compatible server (vLLM, llama.cpp, proxies), so
nothing here assumes api.openai.com.

    >>> from deluge_ray.prompt import Conversation
    >>> from deluge_ray.models import get_model
    >>> spec = build_request(get_model("gpt-4.1-mini"), Conversation().user("Hi"),
    ...                      SamplingParams(max_new_tokens=5), api_key=None)
    >>> (spec.url, spec.json["model"], spec.json["max_completion_tokens"])
    ('https://api.openai.com/v1/chat/completions', 'gpt-4.1-mini-2025-04-14', 5)
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from typing import TYPE_CHECKING, Any

from ..config import SamplingParams
from ..models import APIModel
from ..prompt import Conversation, Message, Text, Thinking, ToolCall
from ._common import (
    ApiKey,
    auth_headers,
    cost_of,
    deep_merge,
    failed,
    finish_headers,
    load_json,
    make_usage,
    no_background,
    no_mcp_servers,
    output_schema_dict,
    split_tools,
    strict_schema,
    tool_arguments,
)
from ._errors import classify_error
from ._openai_effort import openai_sampling_fields, verbosity_for
from ._types import ParsedResponse, RequestSpec

if TYPE_CHECKING:
    from .response import APIResponse

__all__ = ["build_request", "parse_response", "response_format", "sampling_fields", "stream_chat"]


def sampling_fields(model: APIModel, sp: SamplingParams) -> dict[str, Any]:
    """Temperature/top_p, ``reasoning_effort`` and ``verbosity`` as chat completions
    take them (the rules are in :mod:`._openai_effort`)."""
    fields, effort = openai_sampling_fields(model, sp, chat=True)
    if effort is not None:
        fields["reasoning_effort"] = effort
    verbosity = verbosity_for(model, sp)
    if verbosity is not None:
        fields["verbosity"] = verbosity
    return fields


def _max_tokens_field(model: APIModel) -> str:
    # Cohere's and Mistral's OpenAI-compatible APIs take the older name (0.0.168's rule).
    if "cohere" in model.base_url or "mistral" in model.name.lower():
        return "max_tokens"
    return "max_completion_tokens"


def response_format(model: APIModel, sp: SamplingParams, output_schema: Any) -> dict | None:
    """``response_format``: a strict JSON schema, a JSON object, or ``None`` for text."""
    if output_schema is not None:
        name, schema = output_schema_dict(output_schema)
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": strict_schema(schema), "strict": True},
        }
    if sp.json_mode and model.supports_json:
        return {"type": "json_object"}
    return None


def build_request(
    model: APIModel,
    conversation: Conversation,
    sampling_params: SamplingParams,
    *,
    tools: list[Any] | None = None,
    output_schema: Any = None,
    cache_pattern: str | None = None,
    service_tier: str | None = None,
    extra_headers: Mapping[str, str] | None = None,
    extra_body: Mapping[str, Any] | None = None,
    background: bool = False,
    api_key: ApiKey,
    base_url: str | None = None,
) -> RequestSpec:
    """The chat-completions request for ``conversation``.

    ``cache_pattern`` is accepted for a uniform signature and ignored: OpenAI caches
    prompt prefixes automatically. ``base_url`` defaults to ``model.resolved_base_url()``.
    """
    no_background(background, "chat completions")
    sp = sampling_params
    body: dict[str, Any] = {
        "model": model.name,
        "messages": conversation.to_openai(),
        _max_tokens_field(model): sp.max_new_tokens,
        **sampling_fields(model, sp),
    }
    if sp.logprobs or sp.top_logprobs is not None:
        body["logprobs"] = True
        if sp.top_logprobs is not None:
            body["top_logprobs"] = sp.top_logprobs
    fmt = response_format(model, sp, output_schema)
    if fmt is not None:
        body["response_format"] = fmt
    funcs, servers, native = split_tools(tools)
    no_mcp_servers(servers, "chat completions")
    if funcs or native:
        body["tools"] = [t.for_openai_completions(strict=sp.strict_tools) for t in funcs] + native
    if service_tier is not None:
        body["service_tier"] = service_tier
    url = f"{(base_url or model.resolved_base_url()).rstrip('/')}/chat/completions"
    headers = finish_headers(auth_headers("openai", api_key), [], extra_headers)
    return RequestSpec("POST", url, headers, deep_merge(body, extra_body))


def _message(choice_message: dict[str, Any]) -> Message:
    parts: list[Any] = []
    # OpenAI-compatible servers (vLLM, DeepSeek) return reasoning text in one of these.
    reasoning = choice_message.get("reasoning_content") or choice_message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        parts.append(Thinking(reasoning))
    content = choice_message.get("content")
    if isinstance(content, str) and content:
        parts.append(Text(content))
    elif isinstance(content, list):  # some compatible servers send content parts
        parts.extend(Text(p["text"]) for p in content if isinstance(p, dict) and p.get("text"))
    refusal = choice_message.get("refusal")
    if isinstance(refusal, str) and refusal and not content:
        parts.append(Text(refusal))
    for call in choice_message.get("tool_calls") or []:
        fn = call.get("function") or {}
        args, raw = tool_arguments(fn.get("arguments"))
        parts.append(ToolCall(call.get("id", ""), fn.get("name", ""), args, raw))
    return Message("assistant", parts)


def parse_response(
    model: APIModel, status: int, headers: Mapping[str, str] | None, body: bytes
) -> ParsedResponse:
    """Parse a chat-completions answer (success or error) into a :class:`ParsedResponse`."""
    if not 200 <= status < 300:
        return failed(status, headers, body)
    data = load_json(body)
    choices = data.get("choices") if isinstance(data, dict) else None
    if not choices or not isinstance(choices[0], dict):
        # A 200 without choices: an error object from a proxy, or a truncated body.
        return ParsedResponse(error=classify_error(status, headers, body), raw=None)
    choice = choices[0]
    usage_data = data.get("usage") or {}
    details = usage_data.get("prompt_tokens_details") or {}
    usage = make_usage(
        usage_data.get("prompt_tokens", 0),
        usage_data.get("completion_tokens", 0),
        details.get("cached_tokens", 0),
        details.get("cache_write_tokens", 0),
        reasoning=(usage_data.get("completion_tokens_details") or {}).get("reasoning_tokens", 0),
    )
    content = _message(choice.get("message") or {})
    logprobs = (choice.get("logprobs") or {}).get("content")
    thinking = "\n".join(t.content for t in content.thinking_parts) or None
    return ParsedResponse(
        content=content,
        usage=usage,
        finish_reason=choice.get("finish_reason"),
        thinking=thinking,
        logprobs=logprobs,
        response_id=data.get("id"),
        raw=data,
        cost=cost_of(model, usage),
    )


async def stream_chat(
    model_name: str, prompt: Any, **options: Any
) -> AsyncIterator[str | APIResponse]:
    """Stream one prompt: yield each text delta string, then the final ``APIResponse``.

    The entry point the API reference names (``api_requests.openai.stream_chat()``); it
    forwards ``model_name``, ``prompt`` and every keyword option (``tools``,
    ``sampling_params``, ``request_timeout``, ...) to
    :func:`deluge_ray.api_requests.streaming.stream_chat`, which streams any provider that
    can stream, not only OpenAI. ``streaming`` imports this module, so it is imported here,
    on first use, rather than at the top.
    """
    from .streaming import stream_chat as _stream_chat

    async with aclosing(_stream_chat(model_name, prompt, **options)) as items:
        async for item in items:
            yield item
