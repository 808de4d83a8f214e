"""Parse provider transcripts (OpenAI chat, Anthropic messages) back into messages.

The inverse of the serialisers: ``from_openai_chat(c.to_openai())`` and
``from_anthropic(*c.to_anthropic())`` give back the same parts. Tool output text that
is a JSON object or array comes back as a dict/list (that is how it was sent).
"""

from __future__ import annotations

import json
import re
from typing import Any

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._message import Message
from ._openai import TOOL_IMAGES_MARKER
from ._parts import Part, Text, Thinking, ToolCall, ToolResult

__all__ = ["parse_anthropic", "parse_openai_chat"]

_MARKER = re.compile("^" + re.escape(TOOL_IMAGES_MARKER).replace(r"\{\}", "(.+)") + "$")


def _result_value(text: str) -> Any:
    stripped = text.strip()
    if stripped[:1] in ("{", "["):
        try:
            value = json.loads(stripped)
        except ValueError:
            return text
        if isinstance(value, (dict, list)):
            return value
    return text


def _expect_dict(item: Any, where: str) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise PromptError(f"{where} must be a dict, got {type(item).__name__}.")
    return item


# ── OpenAI chat completions ───────────────────────────────────────────────────


def _oa_file(block: dict[str, Any], where: str) -> File:
    """A chat ``file`` part (fields under ``"file"``) or a Responses-style ``input_file``
    part (fields on the block itself, or under ``"input_file"``), as 0.0.168 accepts both."""
    spec = block.get("file") or block.get("input_file") or {}
    if not isinstance(spec, dict):
        spec = {}

    def field(name: str) -> Any:
        return spec.get(name) or block.get(name)

    filename = field("filename")
    if field("file_id"):
        return File(file_id=field("file_id"), filename=filename, provider="openai")
    source = field("file_data") or field("file_url")
    if not source:
        raise PromptError(f"{where} is a file part without file_id, file_data or file_url.")
    return File(source, filename=filename)


def _oa_part(block: Any, where: str) -> Part:
    if isinstance(block, str):
        return Text(block)
    block = _expect_dict(block, where)
    kind = block.get("type")
    if kind in ("text", "input_text", "output_text", "refusal"):
        return Text(block.get("text", block.get("refusal", "")))
    if kind == "image_url":
        spec = block["image_url"]
        if isinstance(spec, str):
            return Image(spec)
        return Image(spec["url"], detail=spec.get("detail", "auto"))
    if kind in ("file", "input_file"):
        return _oa_file(block, where)
    raise PromptError(f"{where} has unsupported content type {kind!r}.")


def _oa_parts(content: Any, where: str) -> list[Part]:
    if content is None or content == "":
        return []
    if isinstance(content, str):
        return [Text(content)]
    if not isinstance(content, list):
        raise PromptError(f"{where} content must be a str or list, got {type(content).__name__}.")
    return [_oa_part(b, f"{where} content[{i}]") for i, b in enumerate(content)]


def _oa_tool_call(call: dict[str, Any], where: str) -> ToolCall:
    function = call.get("function") or {}
    raw_args = function.get("arguments") or "{}"
    if isinstance(raw_args, dict):
        args = raw_args
    else:
        try:
            args = json.loads(raw_args)
        except ValueError as exc:
            raise PromptError(
                f"{where} tool call {call.get('id')!r} has arguments that are not JSON: {exc}."
            ) from exc
    return ToolCall(call.get("id", ""), function.get("name", ""), args)


def _fold_tool_images(tool_message: Message, parts: list[Part]) -> list[Part]:
    """Move marker-led images back into their tool results; return the remaining parts."""
    by_id = {r.tool_call_id: r for r in tool_message.tool_results}
    current: ToolResult | None = None
    rest: list[Part] = []
    for part in parts:
        match = _MARKER.match(part.text) if isinstance(part, Text) else None
        if match and match.group(1) in by_id:
            current = by_id[match.group(1)]
            if not isinstance(current.result, list) or not current.is_parts:
                current.result = [Text(current.result)] if current.result else []
            continue
        if current is not None and isinstance(part, Image):
            current.result.append(part)  # type: ignore[union-attr]
            continue
        current = None
        rest.append(part)
    return rest


def parse_openai_chat(messages: list[dict[str, Any]]) -> list[Message]:
    """Messages from chat-completions ``messages`` (``developer`` counts as system)."""
    if not isinstance(messages, list):
        raise PromptError(f"OpenAI messages must be a list, got {type(messages).__name__}.")
    out: list[Message] = []
    for i, raw in enumerate(messages):
        where = f"OpenAI message {i}"
        msg = _expect_dict(raw, where)
        role = msg.get("role")
        if role == "developer":
            role = "system"
        if role == "tool":
            content = msg.get("content")
            if isinstance(content, list):
                result: Any = [Text(b["text"]) for b in content if b.get("type") == "text"]
            else:
                result = _result_value(content or "")
            part = ToolResult(msg.get("tool_call_id", ""), result)
            if out and out[-1].role == "tool":
                out[-1].parts.append(part)
            else:
                out.append(Message("tool", [part]))
            continue
        parts = _oa_parts(msg.get("content"), where)
        if role == "assistant":
            parts.extend(_oa_tool_call(c, where) for c in msg.get("tool_calls") or [])
        if role == "user" and out and out[-1].role == "tool":
            parts = _fold_tool_images(out[-1], parts)
            if not parts:
                continue
        out.append(Message(role, parts))  # Message validates the role
    return out


# ── Anthropic messages ────────────────────────────────────────────────────────


def _an_source(block: dict[str, Any], where: str) -> tuple[Any, str | None]:
    source = block.get("source") or {}
    kind = source.get("type")
    if kind == "base64":
        return f"data:{source['media_type']};base64,{source['data']}", source["media_type"]
    if kind == "url":
        return source["url"], None
    if kind == "text":
        return source.get("data", "").encode("utf-8"), source.get("media_type", "text/plain")
    if kind == "file":
        return None, None
    raise PromptError(f"{where} has unsupported source type {kind!r}.")


def _an_part(block: Any, where: str) -> Part:
    if isinstance(block, str):
        return Text(block)
    block = _expect_dict(block, where)
    kind = block.get("type")
    if kind == "text":
        return Text(block.get("text", ""))
    if kind == "image":
        data, media_type = _an_source(block, where)
        if data is None:
            raise PromptError(f"{where}: Anthropic file-id images are not supported.")
        return Image(data, media_type=media_type)
    if kind == "document":
        data, media_type = _an_source(block, where)
        if data is None:
            file_id = block["source"]["file_id"]
            return File(file_id=file_id, provider="anthropic")
        return File(data, media_type=media_type, filename=block.get("title"))
    if kind == "tool_use":
        return ToolCall(block["id"], block["name"], block.get("input") or {})
    if kind == "tool_result":
        content = block.get("content", "")
        if isinstance(content, list):
            result: Any = [_an_part(b, f"{where} result") for b in content]
        else:
            result = _result_value(content or "")
        return ToolResult(block["tool_use_id"], result)
    if kind == "thinking":
        return Thinking(block.get("thinking", ""), signature=block.get("signature"))
    if kind == "redacted_thinking":
        return Thinking("", raw={"type": "redacted_thinking", "data": block.get("data", "")})
    raise PromptError(f"{where} has unsupported block type {kind!r}.")


def _an_system(system: str | list[dict[str, Any]] | None) -> list[Message]:
    if system is None or system == "":
        return []
    if isinstance(system, str):
        return [Message.system(system)]
    texts = [_an_part(b, "Anthropic system") for b in system]
    return [Message("system", texts)]


def parse_anthropic(
    messages: list[dict[str, Any]], system: str | list[dict[str, Any]] | None = None
) -> list[Message]:
    """Messages from Anthropic ``messages`` (+ ``system``); tool results become tool messages."""
    if not isinstance(messages, list):
        raise PromptError(f"Anthropic messages must be a list, got {type(messages).__name__}.")
    out = _an_system(system)
    for i, raw in enumerate(messages):
        where = f"Anthropic message {i}"
        msg = _expect_dict(raw, where)
        role = msg.get("role")
        content = msg.get("content")
        blocks = [content] if isinstance(content, str) else list(content or [])
        parts = [_an_part(b, f"{where} content[{j}]") for j, b in enumerate(blocks)]
        if role == "user":
            results = [p for p in parts if isinstance(p, ToolResult)]
            if results:
                out.append(Message("tool", results))
                parts = [p for p in parts if not isinstance(p, ToolResult)]
                if not parts:
                    continue
        out.append(Message(role, parts))
    return out
