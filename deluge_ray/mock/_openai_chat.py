"""OpenAI ``POST /v1/chat/completions``: parse the request, render JSON or stream chunks."""

from __future__ import annotations

import time
import uuid
from typing import Any

from ._behaviour import Generated, RequestView, TokenTally, ViewMessage, split_for_stream
from ._logprobs import token_logprobs
from ._sse import DONE_FRAME, data_frame
from ._validate import MockHTTPError, optional, positive_int, require, require_dict

__all__ = ["openai_tool_choice", "parse_chat", "render_chat", "stream_chat", "stream_chat_chunks"]

_ROLES = {"system", "developer", "user", "assistant", "tool", "function"}


def _content_text(content: Any, path: str, tally: TokenTally) -> str:
    """Join the text of a message's content (str or list of parts), tallying every piece."""
    if content is None:
        return ""
    if isinstance(content, str):
        tally.text(content)
        return content
    if not isinstance(content, list):
        raise MockHTTPError(
            400,
            f"Invalid type for '{path}': expected a string or an array of content parts.",
            param=path,
            code="invalid_type",
        )
    texts = []
    for i, part in enumerate(content):
        part = require_dict(part, f"{path}[{i}]")
        kind = part.get("type")
        if kind == "text":
            text = require(part, "text", str, f"{path}[{i}].")
            tally.text(text)
            texts.append(text)
        elif kind in ("image_url", "input_image"):
            tally.image()
        elif kind in ("input_audio", "file", "refusal"):
            tally.text(part.get("refusal"))
        else:
            raise MockHTTPError(
                400,
                f"Invalid value for '{path}[{i}].type': {kind!r}. Supported values are: "
                "'text', 'image_url', 'input_audio', 'refusal' and 'file'.",
                param=f"{path}[{i}].type",
                code="invalid_value",
            )
    return "".join(texts)


def response_schema_of(response_format: dict[str, Any] | None, path: str) -> dict[str, Any] | None:
    """The JSON schema requested by a chat ``response_format`` (``{}`` for json_object)."""
    if response_format is None:
        return None
    kind = response_format.get("type")
    if kind == "json_schema":
        spec = require(response_format, "json_schema", dict, f"{path}.")
        return spec.get("schema") or {}
    if kind == "json_object":
        return {}
    if kind == "text":
        return None
    raise MockHTTPError(
        400,
        f"Invalid value for '{path}.type': {kind!r}. Supported: 'text', 'json_object', 'json_schema'.",
        param=f"{path}.type",
        code="invalid_value",
    )


def openai_tool_choice(choice: Any) -> str | None:
    """``"none"``/``"auto"``/``"required"``, or the name of the function a dict forces."""
    if isinstance(choice, dict):
        function = choice.get("function")
        named = function.get("name") if isinstance(function, dict) else choice.get("name")
        return named if isinstance(named, str) else None
    return choice if isinstance(choice, str) else None


def _check_logprobs(body: dict[str, Any]) -> None:
    """``logprobs`` is a boolean; ``top_logprobs`` 0-20 and only with ``logprobs: true``."""
    wanted = optional(body, "logprobs", bool)
    top = optional(body, "top_logprobs", int)
    if top is None:
        return
    if not 0 <= top <= 20:
        bound = (
            "below minimum value. Expected a value >= 0"
            if top < 0
            else ("above maximum value. Expected a value <= 20")
        )
        raise MockHTTPError(
            400,
            f"Invalid 'top_logprobs': integer {bound}, but got {top}.",
            param="top_logprobs",
            code="integer_below_min_value" if top < 0 else "integer_above_max_value",
        )
    if not wanted:
        raise MockHTTPError(
            400,
            "Invalid value for 'top_logprobs': 'logprobs' must be set to true when "
            "'top_logprobs' is used.",
            param="top_logprobs",
            code="invalid_value",
        )


def _logprobs_of(view: RequestView, text: str) -> dict[str, Any] | None:
    """``choices[0].logprobs`` for ``text`` when the request asked for them, else ``None``."""
    if not view.body.get("logprobs"):
        return None
    return {"content": token_logprobs(text, view.body.get("top_logprobs")), "refusal": None}


def parse_chat(body: dict[str, Any], model: str) -> RequestView:
    """Validate a chat-completions body and build its :class:`RequestView`."""
    raw_messages = require(body, "messages", list)
    if not raw_messages:
        raise MockHTTPError(
            400,
            "Invalid 'messages': empty array. Expected an array with minimum length 1.",
            param="messages",
            code="empty_array",
        )
    tally = TokenTally(model)
    messages: list[ViewMessage] = []
    system: list[str] = []
    for i, raw in enumerate(raw_messages):
        where = f"messages[{i}]."
        raw = require_dict(raw, f"messages[{i}]")
        role = require(raw, "role", str, where)
        if role not in _ROLES:
            raise MockHTTPError(
                400,
                f"Invalid value for 'messages[{i}].role': {role!r}. Supported values are: "
                "'system', 'developer', 'user', 'assistant', 'tool' and 'function'.",
                param=f"messages[{i}].role",
                code="invalid_value",
            )
        text = _content_text(raw.get("content"), f"messages[{i}].content", tally)
        if role in ("system", "developer"):
            system.append(text)
            tally.message()
            continue
        if role in ("tool", "function"):
            call_id = raw.get("tool_call_id") or raw.get("name") or ""
            result = {"tool_call_id": call_id, "content": text}
            # A conversation's one tool message becomes several wire messages; count it once.
            if messages and messages[-1].role == "tool":
                messages[-1].tool_results.append(result)
            else:
                tally.message()
                messages.append(ViewMessage("tool", "", tool_results=[result]))
            continue
        tally.message()
        message = ViewMessage(role, text)
        for j, call in enumerate(optional(raw, "tool_calls", list) or []):
            call = require_dict(call, f"messages[{i}].tool_calls[{j}]")
            function = require(call, "function", dict, f"messages[{i}].tool_calls[{j}].")
            name = require(function, "name", str, f"messages[{i}].tool_calls[{j}].function.")
            arguments = optional(function, "arguments", str) or ""
            tally.text(name)
            tally.text(arguments)
            message.tool_calls.append({"id": call.get("id"), "name": name, "arguments": arguments})
        messages.append(message)
    tools = []
    specs = {}
    for i, tool in enumerate(optional(body, "tools", list) or []):
        tool = require_dict(tool, f"tools[{i}]")
        function = require(tool, "function", dict, f"tools[{i}].")
        name = require(function, "name", str, f"tools[{i}].function.")
        tools.append(name)
        specs[name] = {
            "description": function.get("description"),
            "parameters": function.get("parameters"),
        }
        tally.json(tool)
    response_format = optional(body, "response_format", dict)
    max_tokens = positive_int(body, "max_completion_tokens") or positive_int(body, "max_tokens")
    stream = bool(optional(body, "stream", bool))
    optional(body, "stream_options", dict)
    optional(body, "temperature", float)
    _check_logprobs(body)
    return RequestView(
        api="openai_chat",
        model=model,
        messages=messages,
        system="\n".join(system) or None,
        tools=tools,
        response_schema=response_schema_of(response_format, "response_format"),
        max_tokens=max_tokens,
        input_tokens=tally.total,
        stream=stream,
        body=body,
        tool_specs=specs,
        tool_choice=openai_tool_choice(body.get("tool_choice")),
    )


def _usage(gen: Generated) -> dict[str, Any]:
    return {
        "prompt_tokens": gen.input_tokens,
        "completion_tokens": gen.output_tokens,
        "total_tokens": gen.input_tokens + gen.output_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": gen.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_calls(gen: Generated) -> list[dict[str, Any]]:
    return [
        {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
        for c in gen.tool_calls
    ]


def render_chat(view: RequestView, gen: Generated) -> dict[str, Any]:
    """The ``chat.completion`` object for a finished answer."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": gen.text if (gen.text or not gen.tool_calls) else None,
        "refusal": None,
        "annotations": [],
    }
    if gen.tool_calls:
        message["tool_calls"] = _tool_calls(gen)
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": view.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": _logprobs_of(view, gen.text),
                "finish_reason": gen.finish,
            }
        ],
        "usage": _usage(gen),
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }


def stream_chat_chunks(view: RequestView, gen: Generated) -> list[dict[str, Any]]:
    """The ``chat.completion.chunk`` objects of a streamed answer, in order."""
    base = {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": view.model,
        "service_tier": "default",
        "system_fingerprint": "fp_mock",
    }

    def chunk(
        delta: dict[str, Any], finish: str | None = None, logprobs: Any = None
    ) -> dict[str, Any]:
        choice = {"index": 0, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return {**base, "choices": [choice]}

    chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
    # Each text chunk carries the logprobs of the tokens that start inside it, so the
    # chunks' lists join to exactly the non-streamed answer's list.
    pieces = split_for_stream(gen.text)
    whole = _logprobs_of(view, gen.text)
    entries = iter(whole["content"] if whole else [])
    consumed, end = 0, 0
    for piece in pieces:
        end += len(piece)
        mine = []
        while whole is not None and consumed < end:
            entry = next(entries)
            mine.append(entry)
            consumed += len(entry["token"])
        logprobs = {"content": mine, "refusal": None} if whole is not None else None
        chunks.append(chunk({"content": piece}, logprobs=logprobs))
    for index, call in enumerate(gen.tool_calls):
        head = {"index": index, "id": call.id, "type": "function"}
        chunks.append(
            chunk({"tool_calls": [{**head, "function": {"name": call.name, "arguments": ""}}]})
        )
        chunks.append(
            chunk({"tool_calls": [{"index": index, "function": {"arguments": call.arguments}}]})
        )
    chunks.append(chunk({}, gen.finish))
    options = view.body.get("stream_options") or {}
    if options.get("include_usage"):
        chunks.append({**base, "choices": [], "usage": _usage(gen)})
    return chunks


def stream_chat(view: RequestView, gen: Generated) -> list[bytes]:
    """The SSE frames of a streamed chat completion, ending with ``data: [DONE]``."""
    return [*(data_frame(c) for c in stream_chat_chunks(view, gen)), DONE_FRAME]
