"""Gemini ``models/{model}:generateContent`` and ``:streamGenerateContent`` (SSE or JSON array)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from ._behaviour import (
    Generated,
    RequestView,
    TokenTally,
    ViewMessage,
    json_text,
    split_for_stream,
)
from ._sse import data_frame
from ._validate import MockHTTPError, optional, positive_int, require, require_dict

__all__ = ["parse_gemini", "render_gemini", "stream_gemini", "stream_gemini_chunks"]

_FINISH = {"stop": "STOP", "length": "MAX_TOKENS", "tool_calls": "STOP"}


def _parts(parts: Any, path: str, tally: TokenTally, message: ViewMessage) -> str:
    if not isinstance(parts, list):
        raise MockHTTPError(
            400, f"Invalid value at '{path}': expected a list of parts.", param=path
        )
    texts = []
    for i, part in enumerate(parts):
        where = f"{path}[{i}]"
        part = require_dict(part, where)
        if "text" in part:
            text = require(part, "text", str, f"{where}.")
            tally.text(text)
            if not part.get("thought"):
                texts.append(text)
        elif "inlineData" in part or "fileData" in part:
            tally.image()
        elif "functionCall" in part:
            call = require(part, "functionCall", dict, f"{where}.")
            name = require(call, "name", str, f"{where}.functionCall.")
            arguments = json_text(call.get("args") or {})
            tally.text(name)
            tally.text(arguments)
            message.tool_calls.append({"id": call.get("id"), "name": name, "arguments": arguments})
        elif "functionResponse" in part:
            response = require(part, "functionResponse", dict, f"{where}.")
            content = response.get("response", {})
            tally.json(content)
            message.tool_results.append(
                {"tool_call_id": response.get("id") or response.get("name"), "content": content}
            )
        else:
            raise MockHTTPError(
                400,
                f"Invalid value at '{where}': a part needs one of text, inlineData, fileData, "
                "functionCall or functionResponse.",
                param=where,
            )
    return "".join(texts)


def _check_not_empty(parts: Any, index: int) -> None:
    """Reject an empty parts list or an empty text part, as the real API does."""
    if parts == []:
        raise MockHTTPError(
            400,
            f"* GenerateContentRequest.contents[{index}].parts: contents.parts must not be empty.",
            param=f"contents[{index}].parts",
        )
    for part in parts if isinstance(parts, list) else []:
        if isinstance(part, dict) and part.get("text") == "" and len(part) == 1:
            raise MockHTTPError(
                400,
                "Unable to submit request because it has an empty text parameter. Add a value "
                "to the parameter and try again.",
                param=f"contents[{index}].parts",
            )


def parse_gemini(body: dict[str, Any], model: str) -> RequestView:
    """Validate a generateContent body and build its view (``stream`` is set by the route)."""
    tally = TokenTally(model)
    contents = require(body, "contents", list)
    if not contents:
        # Also what a system-only conversation gets: systemInstruction is not content.
        raise MockHTTPError(
            400, "* GenerateContentRequest.contents: contents is not specified", param="contents"
        )
    system_text = None
    system = optional(body, "systemInstruction", dict) or optional(body, "system_instruction", dict)
    if system:
        tally.message()
        system_text = _parts(
            system.get("parts", []), "system_instruction.parts", tally, ViewMessage("system")
        )
    messages = []
    for i, content in enumerate(contents):
        content = require_dict(content, f"contents[{i}]")
        role = optional(content, "role", str) or "user"
        if role not in ("user", "model", "function"):
            raise MockHTTPError(
                400,
                f"Invalid value at 'contents[{i}].role': {role!r}; use 'user' or 'model'.",
                param=f"contents[{i}].role",
            )
        tally.message()
        message = ViewMessage("assistant" if role == "model" else "user")
        parts = content.get("parts", [])
        _check_not_empty(parts, i)
        message.text = _parts(parts, f"contents[{i}].parts", tally, message)
        if message.tool_results and not message.text:
            message.role = "tool"
        messages.append(message)
    tools = []
    specs = {}
    for i, tool in enumerate(optional(body, "tools", list) or []):
        tool = require_dict(tool, f"tools[{i}]")
        for declaration in (
            tool.get("functionDeclarations") or tool.get("function_declarations") or []
        ):
            name = str(declaration.get("name", ""))
            tools.append(name)
            parameters = declaration.get("parametersJsonSchema") or declaration.get("parameters")
            specs[name] = {
                "description": declaration.get("description"),
                "parameters": _lower_types(parameters) if parameters else None,
            }
            tally.json(declaration)
    config = optional(body, "generationConfig", dict) or {}
    schema = config.get("responseJsonSchema") or config.get("responseSchema")
    if schema is None and config.get("responseMimeType") == "application/json":
        schema = {}
    return RequestView(
        api="gemini",
        model=model,
        messages=messages,
        system=system_text,
        tools=tools,
        response_schema=_lower_types(schema) if schema is not None else None,
        max_tokens=positive_int(config, "maxOutputTokens"),
        input_tokens=tally.total,
        body=body,
        tool_specs=specs,
        tool_choice=_tool_choice(optional(body, "toolConfig", dict) or {}),
    )


def _tool_choice(tool_config: dict[str, Any]) -> str | None:
    """``functionCallingConfig.mode`` (AUTO/ANY/NONE, one allowed name) as a view choice."""
    config = tool_config.get("functionCallingConfig") or {}
    mode = str(config.get("mode", "AUTO")).upper()
    allowed = config.get("allowedFunctionNames") or []
    if mode == "ANY":
        return allowed[0] if len(allowed) == 1 else "required"
    return "none" if mode == "NONE" else None


def _lower_types(schema: Any) -> Any:
    """Gemini's OpenAPI-style schemas spell types in capitals (``"STRING"``)."""
    if isinstance(schema, dict):
        return {
            k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v))
            for k, v in schema.items()
        }
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def _usage(gen: Generated) -> dict[str, Any]:
    # As Gemini reports them: candidatesTokenCount leaves the thinking tokens out.
    usage = {
        "promptTokenCount": gen.input_tokens,
        "candidatesTokenCount": gen.output_tokens - gen.reasoning_tokens,
        "totalTokenCount": gen.input_tokens + gen.output_tokens,
    }
    if gen.reasoning_tokens:
        usage["thoughtsTokenCount"] = gen.reasoning_tokens
    return usage


def _response(
    view: RequestView,
    parts: list[dict[str, Any]],
    finish: str | None,
    usage: Any,
    response_id: str | None = None,
) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    payload: dict[str, Any] = {"candidates": [candidate], "modelVersion": view.model}
    if usage:
        payload["usageMetadata"] = usage
    payload["responseId"] = response_id or uuid.uuid4().hex[:20]
    return payload


def _all_parts(gen: Generated) -> list[dict[str, Any]]:
    parts: list[dict[str, Any]] = []
    if gen.thinking:
        parts.append({"text": gen.thinking, "thought": True})
    if gen.text or not gen.tool_calls:
        parts.append({"text": gen.text})
    parts += [
        {"functionCall": {"name": c.name, "args": json.loads(c.arguments)}} for c in gen.tool_calls
    ]
    return parts


def render_gemini(view: RequestView, gen: Generated) -> dict[str, Any]:
    """The ``GenerateContentResponse`` of a finished answer."""
    return _response(view, _all_parts(gen), _FINISH[gen.finish], _usage(gen))


def stream_gemini_chunks(view: RequestView, gen: Generated) -> list[dict[str, Any]]:
    """Partial responses: text pieces, then one chunk with finishReason and usage."""
    rid = uuid.uuid4().hex[:20]  # one id for every chunk of the stream
    chunks = []
    if gen.thinking:
        chunks.append(_response(view, [{"text": gen.thinking, "thought": True}], None, None, rid))
    chunks += [_response(view, [{"text": p}], None, None, rid) for p in split_for_stream(gen.text)]
    calls = [p for p in _all_parts(gen) if "functionCall" in p]
    chunks.append(_response(view, calls or [{"text": ""}], _FINISH[gen.finish], _usage(gen), rid))
    return chunks


def stream_gemini(view: RequestView, gen: Generated) -> list[bytes]:
    """The SSE frames of ``streamGenerateContent?alt=sse``."""
    return [data_frame(c) for c in stream_gemini_chunks(view, gen)]
