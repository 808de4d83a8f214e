"""Anthropic messages API (``POST {base}/messages``): pure build and parse.

Beta features are switched on by the ``anthropic-beta`` header, added only when the body
uses them: structured outputs (``output_format`` or strict tools), the MCP connector
(``mcp_servers``), output effort (``output_config``) and the Files API (a document or
image whose source is an uploaded ``file_id``). They are sent comma-separated in one
header, after any the caller passes in ``extra_headers``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..config import SamplingParams
from ..models import APIModel
from ..prompt import Conversation, Message, Text, Thinking, ToolCall, apply_tool_cache_control
from ..transport._uploads import ANTHROPIC_FILES_BETA
from ._claude_thinking import adaptive_thinking, output_effort
from ._common import (
    ApiKey,
    auth_headers,
    cost_of,
    deep_merge,
    failed,
    finish_headers,
    load_json,
    no_background,
    output_schema_dict,
    split_tools,
    strict_schema,
    thinking_budget_for,
)
from ._errors import classify_error
from ._types import ParsedResponse, RequestSpec
from .response import Usage

__all__ = [
    "BETA_EFFORT",
    "BETA_FILES",
    "BETA_MCP",
    "BETA_STRUCTURED_OUTPUTS",
    "build_request",
    "output_effort",
    "parse_response",
]

BETA_STRUCTURED_OUTPUTS = "structured-outputs-2025-11-13"
BETA_MCP = "mcp-client-2025-04-04"
BETA_EFFORT = "effort-2025-11-24"
BETA_FILES = ANTHROPIC_FILES_BETA


def uses_uploaded_files(blocks: Any) -> bool:
    """True when any block (at any depth, e.g. inside a tool result) has a ``file`` source.

    >>> uses_uploaded_files([{"role": "user", "content": [
    ...     {"type": "document", "source": {"type": "file", "file_id": "file_1"}}]}])
    True
    """
    stack = [blocks]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            source = item.get("source")
            if isinstance(source, dict) and source.get("type") == "file":
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


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
    """The messages-API request for ``conversation``.

    With a thinking budget, ``max_tokens`` is the budget plus ``max_new_tokens`` (the
    API requires the budget to be below ``max_tokens``, and the answer keeps its own
    allowance); with adaptive thinking (Claude 4.6 and later) the effort goes in
    ``output_config`` instead (see :mod:`._claude_thinking`). With thinking on,
    temperature/top_p are left out (the API rejects them).
    ``service_tier`` is an OpenAI option and is ignored here.
    """
    no_background(background, "Anthropic messages")
    sp = sampling_params
    betas: list[str] = []
    system, messages = conversation.to_anthropic(cache_pattern=cache_pattern)
    body: dict[str, Any] = {"model": model.name, "messages": messages}
    if system:
        body["system"] = system
    if uses_uploaded_files(messages) or uses_uploaded_files(system):
        betas.append(BETA_FILES)
    adaptive = adaptive_thinking(model, sp)
    budget = None if adaptive else thinking_budget_for(model, sp)
    effort = output_effort(model, sp.global_effort)
    if adaptive:
        # Adaptive thinking shares max_tokens with the answer; the effort sizes it, and
        # the reasoning effort asked for wins over the output effort.
        body["max_tokens"] = sp.max_new_tokens
        body["thinking"], effort = adaptive
    elif budget:
        body["max_tokens"] = sp.max_new_tokens + budget
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    else:
        body["max_tokens"] = sp.max_new_tokens
        body["temperature"] = sp.temperature
        # Recent Claude models refuse temperature and top_p together; send top_p only
        # when it was changed from its neutral default.
        if sp.top_p < 1.0:
            body["top_p"] = sp.top_p
    funcs, servers, native = split_tools(tools)
    entries = [t.for_anthropic(strict=sp.strict_tools) for t in funcs] + native
    if entries:
        body["tools"] = apply_tool_cache_control(entries, cache_pattern)
        if any(isinstance(e, dict) and e.get("strict") for e in entries):
            betas.append(BETA_STRUCTURED_OUTPUTS)
    if servers:
        body["mcp_servers"] = [s.for_anthropic() for s in servers]
        betas.append(BETA_MCP)
    if output_schema is not None:
        _, schema = output_schema_dict(output_schema)
        body["output_format"] = {"type": "json_schema", "schema": strict_schema(schema)}
        betas.append(BETA_STRUCTURED_OUTPUTS)
    if effort is not None:
        body["output_config"] = {"effort": effort}
        betas.append(BETA_EFFORT)
    url = f"{(base_url or model.resolved_base_url()).rstrip('/')}/messages"
    headers = finish_headers(auth_headers("anthropic", api_key), betas, extra_headers)
    return RequestSpec("POST", url, headers, deep_merge(body, extra_body))


def _message(blocks: list[Any]) -> Message:
    parts: list[Any] = []
    for block in blocks:
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind == "text":
            parts.append(Text(block.get("text", "")))
        elif kind == "thinking":
            parts.append(Thinking(block.get("thinking", ""), block.get("signature")))
        elif kind == "redacted_thinking":
            parts.append(
                Thinking("", raw={"type": "redacted_thinking", "data": block.get("data", "")})
            )
        elif kind == "tool_use":
            parts.append(
                ToolCall(block.get("id", ""), block.get("name", ""), block.get("input") or {})
            )
        elif kind == "mcp_tool_result":
            # The MCP connector ran the tool server-side; its text is part of the answer.
            for item in block.get("content") or []:
                if isinstance(item, dict) and item.get("type") == "text":
                    parts.append(Text(item.get("text", "")))
    return Message("assistant", parts)


def parse_response(
    model: APIModel, status: int, headers: Mapping[str, str] | None, body: bytes
) -> ParsedResponse:
    """Parse a messages-API answer (success or error) into a :class:`ParsedResponse`."""
    if not 200 <= status < 300:
        return failed(status, headers, body)
    data = load_json(body)
    if not isinstance(data, dict) or data.get("type") == "error" or "content" not in data:
        return ParsedResponse(error=classify_error(status, headers, body), raw=None)
    u = data.get("usage") or {}
    # Anthropic's input_tokens already excludes cache reads and writes.
    usage = Usage(
        input_tokens=int(u.get("input_tokens") or 0),
        output_tokens=int(u.get("output_tokens") or 0),
        cache_read_tokens=int(u.get("cache_read_input_tokens") or 0),
        cache_write_tokens=int(u.get("cache_creation_input_tokens") or 0),
        # Of the cache writes, those with the 1-hour TTL (billed at twice the input price).
        cache_write_1h_tokens=int(
            (u.get("cache_creation") or {}).get("ephemeral_1h_input_tokens")
            or u.get("ephemeral_1h_input_tokens")
            or 0
        ),
    )
    content = _message(data.get("content") or [])
    thinking = "\n".join(t.content for t in content.thinking_parts if t.content) or None
    return ParsedResponse(
        content=content,
        usage=usage,
        finish_reason=data.get("stop_reason"),
        thinking=thinking,
        response_id=data.get("id"),
        raw=data,
        cost=cost_of(model, usage),
    )
