"""OpenAI responses API (``POST {base}/responses``): pure build and parse.

The responses API is needed for background jobs, native MCP servers and stateless
reasoning replay: reasoning models are asked for ``reasoning.encrypted_content`` with
``store: false``, and the reasoning items they return are kept on
:class:`~deluge_ray.prompt.Thinking` parts so the next turn can send them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import SamplingParams
from ..errors import ConfigurationError
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
    output_schema_dict,
    split_tools,
    strict_schema,
    tool_arguments,
)
from ._errors import classify_error
from ._openai_effort import openai_sampling_fields, verbosity_for
from ._types import ErrorInfo, ErrorKind, ParsedResponse, RequestSpec

__all__ = ["PENDING_STATUSES", "build_request", "parse_response"]

#: Background responses report these until they finish; the caller polls ``GET /responses/{id}``.
PENDING_STATUSES = frozenset({"queued", "in_progress"})


def _text_format(model: APIModel, sp: SamplingParams, output_schema: Any) -> dict | None:
    if output_schema is not None:
        name, schema = output_schema_dict(output_schema)
        return {
            "type": "json_schema",
            "name": name,
            "schema": strict_schema(schema),
            "strict": True,
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
    """The responses-API request for ``conversation`` (``cache_pattern`` is ignored)."""
    sp = sampling_params
    payload = conversation.to_openai_responses()
    body: dict[str, Any] = {"model": model.name, "input": payload["input"]}
    if payload.get("instructions"):
        body["instructions"] = payload["instructions"]
    body["max_output_tokens"] = sp.max_new_tokens
    fields, effort = openai_sampling_fields(model, sp, chat=False)
    body.update(fields)
    if effort is not None:
        body["reasoning"] = {"effort": effort, "summary": "auto"}
    stateless_model = model.stateless_responses or model.requires_stateless_responses
    if background and stateless_model:
        raise ConfigurationError(
            f"{model.id} was registered with stateless_responses (or "
            "requires_stateless_responses), which background=True cannot honour: OpenAI "
            "stores background responses to be polled. Use background=False for this model."
        )
    if (model.reasoning_model or stateless_model) and not background:
        # Stateless replay: the encrypted reasoning comes back on each reasoning item.
        body["store"] = False
        body["include"] = ["reasoning.encrypted_content"]
    if sp.logprobs or sp.top_logprobs is not None:
        body.setdefault("include", []).append("message.output_text.logprobs")
        if sp.top_logprobs is not None:
            body["top_logprobs"] = sp.top_logprobs
    fmt = _text_format(model, sp, output_schema)
    if fmt is not None:
        body["text"] = {"format": fmt}
    verbosity = verbosity_for(model, sp)
    if verbosity is not None:
        body.setdefault("text", {})["verbosity"] = verbosity
    funcs, servers, native = split_tools(tools)
    entries = [t.for_openai_responses(strict=sp.strict_tools) for t in funcs]
    entries += [s.for_openai_responses() for s in servers] + native
    if entries:
        body["tools"] = entries
    if service_tier is not None:
        body["service_tier"] = service_tier
    if background:
        body["background"] = True
        body["store"] = True  # OpenAI keeps background jobs server-side to be polled
    url = f"{(base_url or model.resolved_base_url()).rstrip('/')}/responses"
    headers = finish_headers(auth_headers("openai", api_key), [], extra_headers)
    return RequestSpec("POST", url, headers, deep_merge(body, extra_body))


def _parts(output: list[Any]) -> tuple[list[Any], list[Any]]:
    """Message parts and the token logprobs from the ``output`` items."""
    parts: list[Any] = []
    logprobs: list[Any] = []
    for item in output:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "reasoning":
            summary = item.get("summary") or []
            text = "\n".join(s.get("text", "") for s in summary if isinstance(s, dict))
            raw = {"id": item.get("id"), "summary": summary}
            if item.get("encrypted_content"):
                raw["encrypted_content"] = item["encrypted_content"]
            parts.append(Thinking(text, raw=raw))
        elif kind == "message":
            for block in item.get("content") or []:
                if block.get("type") == "output_text":
                    parts.append(Text(block.get("text", "")))
                    logprobs.extend(block.get("logprobs") or [])
                elif block.get("type") == "refusal":
                    parts.append(Text(block.get("refusal", "")))
        elif kind == "function_call":
            args, raw_args = tool_arguments(item.get("arguments"))
            raw = {"item_id": item["id"]} if item.get("id") else None
            if raw_args:
                raw = {**(raw or {}), **raw_args}
            parts.append(ToolCall(item.get("call_id", ""), item.get("name", ""), args, raw))
    return parts, logprobs


def _failure(data: dict[str, Any]) -> ErrorInfo:
    err = data.get("error") or {}
    code = err.get("code")
    # server_error and rate limits inside a failed job are worth another try.
    kind = ErrorKind.RETRY if code in ("server_error", "rate_limit_exceeded") else ErrorKind.GIVE_UP
    return ErrorInfo(
        kind, f"response {data.get('id')} failed: {err.get('message', code)}", None, None
    )


def parse_response(
    model: APIModel, status: int, headers: Mapping[str, str] | None, body: bytes
) -> ParsedResponse:
    """Parse a responses-API answer, including background jobs still queued or running.

    A pending job comes back with ``status`` set (``"queued"``/``"in_progress"``), its
    ``response_id`` and no content or error: poll ``GET {base}/responses/{id}``.
    """
    if not 200 <= status < 300:
        return failed(status, headers, body)
    data = load_json(body)
    if not isinstance(data, dict) or ("output" not in data and "status" not in data):
        return ParsedResponse(error=classify_error(status, headers, body), raw=None)
    state = data.get("status")
    if state in PENDING_STATUSES:
        return ParsedResponse(response_id=data.get("id"), raw=data, status=state)
    if state in ("failed", "cancelled"):
        info = (
            _failure(data)
            if state == "failed"
            else ErrorInfo(
                ErrorKind.GIVE_UP, f"response {data.get('id')} was cancelled", None, None
            )
        )
        return ParsedResponse(error=info, response_id=data.get("id"), raw=data, status=state)
    parts, logprobs = _parts(data.get("output") or [])
    content = Message("assistant", parts)
    usage_data = data.get("usage") or {}
    details = usage_data.get("input_tokens_details") or {}
    usage = make_usage(
        usage_data.get("input_tokens", 0),
        usage_data.get("output_tokens", 0),
        details.get("cached_tokens", 0),
        details.get("cache_write_tokens", 0),
        reasoning=(usage_data.get("output_tokens_details") or {}).get("reasoning_tokens", 0),
    )
    if state == "incomplete":
        finish = (data.get("incomplete_details") or {}).get("reason") or "incomplete"
    else:
        finish = "tool_calls" if content.tool_calls else "stop"
    thinking = "\n".join(t.content for t in content.thinking_parts if t.content) or None
    return ParsedResponse(
        content=content,
        usage=usage,
        finish_reason=finish,
        thinking=thinking,
        logprobs=logprobs or None,
        response_id=data.get("id"),
        raw=data,
        cost=cost_of(model, usage),
        status=state,
    )
