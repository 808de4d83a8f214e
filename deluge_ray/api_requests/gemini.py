"""Gemini generateContent (``POST {base}/models/{name}:generateContent``): build and parse."""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Mapping
from typing import Any

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
    thinking_budget_for,
)
from ._errors import classify_error
from ._types import ErrorInfo, ErrorKind, ParsedResponse, RequestSpec

__all__ = ["build_request", "gemini_thinking_budget", "parse_response"]


def gemini_thinking_budget(model: APIModel, sp: SamplingParams) -> int | None:
    """The ``thinkingBudget`` to send, raised to the model's minimum when it is below it.

    Gemini 2.5 Pro (and 3 Pro) cannot stop thinking: a budget of 0 is refused with a 400.
    ``reasoning_effort="none"`` therefore asks such a model for its *smallest* budget
    (``model.min_thinking_budget``, 128 tokens) rather than 0, so the request succeeds with
    as little thinking as the model allows; an explicit ``thinking_budget`` below the
    minimum is raised to it with a warning.

    >>> from deluge_ray.models import get_model
    >>> gemini_thinking_budget(get_model("gemini-2.5-pro"), SamplingParams(reasoning_effort="none"))
    128
    >>> gemini_thinking_budget(get_model("gemini-2.5-flash"), SamplingParams(reasoning_effort="none"))
    0
    """
    budget = thinking_budget_for(model, sp)
    floor = model.min_thinking_budget
    if budget is None or budget >= floor:
        return budget
    if sp.thinking_budget is not None:
        warnings.warn(
            f"thinking_budget={sp.thinking_budget} is below {model.id}'s minimum of {floor} "
            f"(it cannot switch thinking off); sending {floor}.",
            UserWarning,
            stacklevel=4,
        )
    return floor


def _generation_config(model: APIModel, sp: SamplingParams, output_schema: Any) -> dict[str, Any]:
    config: dict[str, Any] = {"temperature": sp.temperature, "topP": sp.top_p}
    budget = gemini_thinking_budget(model, sp)
    # Gemini counts thinking tokens inside maxOutputTokens; keep the answer's allowance.
    config["maxOutputTokens"] = sp.max_new_tokens + (budget or 0)
    if budget is not None:
        config["thinkingConfig"] = {"thinkingBudget": budget, "includeThoughts": budget > 0}
    if output_schema is not None:
        _, schema = output_schema_dict(output_schema)
        config["responseMimeType"] = "application/json"
        config["responseJsonSchema"] = schema
    elif sp.json_mode and model.supports_json:
        config["responseMimeType"] = "application/json"
    if sp.logprobs or sp.top_logprobs is not None:
        config["responseLogprobs"] = True
        if sp.top_logprobs is not None:
            config["logprobs"] = sp.top_logprobs
    return config


def _tools(tools: list[Any] | None) -> list[dict[str, Any]]:
    funcs, servers, native = split_tools(tools)
    no_mcp_servers(servers, "Gemini")
    declarations: list[dict[str, Any]] = []
    entries: list[dict[str, Any]] = []
    for tool in funcs:
        spec = tool.for_gemini()
        # A function Tool gives one declaration (it has a "name"); a built-in Gemini tool
        # gives a whole tool entry such as {"google_search": {}}.
        is_declaration = "name" in spec and "functionDeclarations" not in spec
        (declarations if is_declaration else entries).append(spec)
    if declarations:
        entries.insert(0, {"functionDeclarations": declarations})
    return entries + native


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
    """The generateContent request (``cache_pattern`` and ``service_tier`` are ignored).

    Thinking: ``thinkingConfig.thinkingBudget`` from ``thinking_budget`` or the effort's
    budget (0 turns thinking off, except on models that always think, which get their
    minimum budget: see :func:`gemini_thinking_budget`); thoughts are requested so they
    can be replayed.
    """
    no_background(background, "Gemini")
    system, contents = conversation.to_gemini()
    body: dict[str, Any] = {"contents": contents}
    if system:
        body["systemInstruction"] = system
    entries = _tools(tools)
    if entries:
        body["tools"] = entries
    body["generationConfig"] = _generation_config(model, sampling_params, output_schema)
    base = (base_url or model.resolved_base_url()).rstrip("/")
    url = f"{base}/models/{model.name}:generateContent"
    headers = finish_headers(auth_headers("gemini", api_key), [], extra_headers)
    return RequestSpec("POST", url, headers, deep_merge(body, extra_body))


def _message(parts_data: list[Any], response_id: str | None) -> Message:
    parts: list[Any] = []
    for index, part in enumerate(parts_data):
        if not isinstance(part, dict):
            continue
        signature = part.get("thoughtSignature")
        raw = {"thoughtSignature": signature} if signature else None
        if "functionCall" in part:
            call = part["functionCall"] or {}
            # Older Gemini versions give calls no id; make one unique to this answer.
            call_id = call.get("id") or f"call_{(response_id or uuid.uuid4().hex)[:16]}_{index}"
            parts.append(ToolCall(call_id, call.get("name", ""), call.get("args") or {}, raw))
        elif part.get("thought"):
            parts.append(Thinking(part.get("text", ""), raw=raw))
        elif "text" in part:
            parts.append(Text(part["text"]))
    return Message("assistant", parts)


def parse_response(
    model: APIModel, status: int, headers: Mapping[str, str] | None, body: bytes
) -> ParsedResponse:
    """Parse a generateContent answer (success, blocked prompt or error)."""
    if not 200 <= status < 300:
        return failed(status, headers, body)
    data = load_json(body)
    if not isinstance(data, dict) or ("candidates" not in data and "promptFeedback" not in data):
        return ParsedResponse(error=classify_error(status, headers, body), raw=None)
    candidates = data.get("candidates") or []
    if not candidates:
        reason = (data.get("promptFeedback") or {}).get("blockReason", "no candidates")
        info = ErrorInfo(
            ErrorKind.GIVE_UP, f"Gemini returned no answer (prompt blocked: {reason})", None, status
        )
        return ParsedResponse(error=info, raw=data, finish_reason=reason)
    candidate = candidates[0]
    content = _message((candidate.get("content") or {}).get("parts") or [], data.get("responseId"))
    meta = data.get("usageMetadata") or {}
    # Thinking tokens are billed as output; candidatesTokenCount leaves them out.
    thoughts = int(meta.get("thoughtsTokenCount") or 0)
    usage = make_usage(
        meta.get("promptTokenCount", 0),
        int(meta.get("candidatesTokenCount") or 0) + thoughts,
        meta.get("cachedContentTokenCount", 0),
        reasoning=thoughts,
    )
    logprobs = (candidate.get("logprobsResult") or {}).get("chosenCandidates")
    thinking = "\n".join(t.content for t in content.thinking_parts if t.content) or None
    return ParsedResponse(
        content=content,
        usage=usage,
        finish_reason=candidate.get("finishReason"),
        thinking=thinking,
        logprobs=logprobs,
        response_id=data.get("responseId"),
        raw=data,
        cost=cost_of(model, usage),
    )
