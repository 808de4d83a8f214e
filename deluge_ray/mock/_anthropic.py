"""Anthropic ``POST /v1/messages``: parse the request, render JSON or the SSE event stream."""

from __future__ import annotations

import hashlib
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
from ._sse import event_frame
from ._validate import MockHTTPError, optional, require, require_dict

__all__ = ["parse_anthropic", "render_anthropic", "stream_anthropic"]

_STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def _blocks_text(content: Any, path: str, tally: TokenTally, message: ViewMessage) -> str:
    """Tally one message's content (str or blocks) and collect text, tool calls and results."""
    if isinstance(content, str):
        tally.text(content)
        return content
    if not isinstance(content, list):
        raise MockHTTPError(400, f"{path}: Input should be a valid string or list", param=path)
    texts = []
    for i, block in enumerate(content):
        where = f"{path}.{i}"
        block = require_dict(block, where)
        kind = require(block, "type", str, f"{where}.")
        if kind == "text":
            text = require(block, "text", str, f"{where}.")
            tally.text(text)
            texts.append(text)
        elif kind in ("image", "document"):
            tally.image()
        elif kind == "thinking":
            tally.text(require(block, "thinking", str, f"{where}."))
        elif kind == "redacted_thinking":
            pass
        elif kind == "tool_use":
            name = require(block, "name", str, f"{where}.")
            arguments = json_text(require(block, "input", dict, f"{where}."))
            tally.text(name)
            tally.text(arguments)
            message.tool_calls.append({"id": block.get("id"), "name": name, "arguments": arguments})
        elif kind == "tool_result":
            result = block.get("content", "")
            if isinstance(result, list):
                result = _blocks_text(result, f"{where}.content", tally, ViewMessage("tool"))
            else:
                tally.json(result)
            message.tool_results.append(
                {"tool_call_id": require(block, "tool_use_id", str, f"{where}."), "content": result}
            )
        else:
            raise MockHTTPError(
                400,
                f"{where}.type: Input tag '{kind}' found using 'type' does not match any of the "
                "expected tags: 'text', 'image', 'document', 'thinking', 'redacted_thinking', "
                "'tool_use', 'tool_result'",
                param=f"{where}.type",
            )
    return "".join(texts)


def _check_not_empty(content: Any, index: int, *, final_assistant: bool) -> None:
    """Reject empty content as the real API does (a final assistant prefill may be empty)."""
    if content in ("", []) and not final_assistant:
        raise MockHTTPError(
            400,
            f"messages.{index}: all messages must have non-empty content except for the "
            "optional final assistant message",
            param=f"messages.{index}",
        )
    for j, block in enumerate(content if isinstance(content, list) else []):
        if isinstance(block, dict) and block.get("type") == "text" and block.get("text") == "":
            raise MockHTTPError(
                400,
                f"messages.{index}.content.{j}.text: text content blocks must be non-empty",
                param=f"messages.{index}.content.{j}.text",
            )


def parse_anthropic(body: dict[str, Any], model: str) -> RequestView:
    """Validate a messages body (field errors name the field) and build its view."""
    max_tokens = require(body, "max_tokens", int)
    if max_tokens < 1:
        raise MockHTTPError(400, "max_tokens: Input should be greater than or equal to 1")
    raw_messages = require(body, "messages", list)
    if not raw_messages:
        # The real API says this for an empty list and so for a system-only conversation too.
        raise MockHTTPError(400, "messages: at least one message is required", param="messages")
    tally = TokenTally(model)
    system = optional(body, "system", (str, list))
    system_text = None
    if system:
        tally.message()
        system_text = _blocks_text(system, "system", tally, ViewMessage("system"))
    messages = []
    last = len(raw_messages) - 1
    for i, raw in enumerate(raw_messages):
        raw = require_dict(raw, f"messages.{i}")
        role = require(raw, "role", str, f"messages.{i}.")
        if role not in ("user", "assistant"):
            raise MockHTTPError(
                400,
                f"messages.{i}.role: Input should be 'user' or 'assistant'",
                param=f"messages.{i}.role",
            )
        tally.message()
        message = ViewMessage(role)
        if "content" not in raw:
            raise MockHTTPError(400, f"messages.{i}.content: Field required")
        _check_not_empty(raw["content"], i, final_assistant=role == "assistant" and i == last)
        message.text = _blocks_text(raw["content"], f"messages.{i}.content", tally, message)
        if message.tool_results and not message.text:
            message.role = "tool"
        messages.append(message)
    tools = []
    specs = {}
    for i, tool in enumerate(optional(body, "tools", list) or []):
        tool = require_dict(tool, f"tools.{i}")
        name = require(tool, "name", str, f"tools.{i}.")
        tools.append(name)
        specs[name] = {
            "description": tool.get("description"),
            "parameters": tool.get("input_schema"),
        }
        tally.json(tool)
    fmt = (optional(body, "output_format", dict) or {}) or (
        (optional(body, "output_config", dict) or {}).get("format") or {}
    )
    schema = fmt.get("schema") or {} if fmt.get("type") == "json_schema" else None
    return RequestView(
        api="anthropic",
        model=model,
        messages=messages,
        system=system_text,
        tools=tools,
        response_schema=schema,
        max_tokens=max_tokens,
        input_tokens=tally.total,
        stream=bool(optional(body, "stream", bool)),
        body=body,
        tool_specs=specs,
        tool_choice=_tool_choice(optional(body, "tool_choice", dict)),
    )


def _tool_choice(choice: dict[str, Any] | None) -> str | None:
    """Anthropic's ``{"type": "auto" | "any" | "tool" | "none", "name"}`` as a view choice."""
    if not choice:
        return None
    kind = choice.get("type")
    if kind == "tool":
        return choice.get("name")
    return {"any": "required", "none": "none"}.get(str(kind))


def _signature(text: str) -> str:
    return "mocksig_" + hashlib.sha256(text.encode()).hexdigest()[:32]


def _content(gen: Generated) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if gen.thinking:
        blocks.append(
            {"type": "thinking", "thinking": gen.thinking, "signature": _signature(gen.thinking)}
        )
    if gen.text or not gen.tool_calls:
        blocks.append({"type": "text", "text": gen.text})
    blocks += [
        {"type": "tool_use", "id": c.id, "name": c.name, "input": json.loads(c.arguments)}
        for c in gen.tool_calls
    ]
    return blocks


def _usage(gen: Generated) -> dict[str, Any]:
    return {
        "input_tokens": gen.input_tokens,
        "output_tokens": gen.output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def render_anthropic(view: RequestView, gen: Generated) -> dict[str, Any]:
    """The ``message`` object of a finished answer."""
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": view.model,
        "content": _content(gen),
        "stop_reason": _STOP_REASONS[gen.finish],
        "stop_sequence": None,
        "usage": _usage(gen),
    }


def stream_anthropic(view: RequestView, gen: Generated) -> list[bytes]:
    """The SSE frames Anthropic sends: message_start, ping, content blocks, message_delta/stop."""
    start = render_anthropic(view, gen)
    start.update(content=[], stop_reason=None)
    start["usage"] = {**_usage(gen), "output_tokens": 1}
    frames = [
        event_frame("message_start", {"type": "message_start", "message": start}),
        event_frame("ping", {"type": "ping"}),
    ]
    for index, block in enumerate(_content(gen)):
        kind = block["type"]
        if kind == "thinking":
            empty: dict[str, Any] = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": p}
                for p in split_for_stream(block["thinking"])
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif kind == "text":
            empty = {"type": "text", "text": ""}
            deltas = [{"type": "text_delta", "text": p} for p in split_for_stream(block["text"])]
        else:
            empty = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            arguments = json.dumps(block["input"])
            half = len(arguments) // 2
            deltas = [
                {"type": "input_json_delta", "partial_json": part}
                for part in (arguments[:half], arguments[half:])
            ]
        frames.append(
            event_frame(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": empty},
            )
        )
        frames += [
            event_frame(
                "content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}
            )
            for d in deltas
        ]
        frames.append(
            event_frame("content_block_stop", {"type": "content_block_stop", "index": index})
        )
    frames.append(
        event_frame(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": _STOP_REASONS[gen.finish], "stop_sequence": None},
                "usage": {"output_tokens": gen.output_tokens},
            },
        )
    )
    frames.append(event_frame("message_stop", {"type": "message_stop"}))
    return frames
