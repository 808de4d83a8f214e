"""Serialise messages to Gemini's generateContent ``contents`` and ``systemInstruction``.

Roles map to ``user`` and ``model``; tool results become ``functionResponse`` parts in a
user turn. Gemini needs the function *name* in a response and an *object* as its
``response``: the name is looked up from the matching earlier tool call, and non-object
results are wrapped as ``{"result": ...}``. Images returned by a tool follow the
functionResponse as inline parts of the same turn.
"""

from __future__ import annotations

from typing import Any

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._message import Message
from ._parts import Text, Thinking, ToolCall, ToolResult

__all__ = ["to_gemini"]


def _function_response(result: ToolResult, names: dict[str, str]) -> list[dict[str, Any]]:
    name = names.get(result.tool_call_id)
    if name is None:
        raise PromptError(
            f"Gemini needs the tool name for result {result.tool_call_id!r}, but no earlier "
            "tool call has that id; add the assistant's ToolCall before its result."
        )
    if result.is_parts:
        response: dict[str, Any] = {"result": result.text}
    elif isinstance(result.result, dict):
        response = result.result
    else:
        response = {"result": result.result}
    parts: list[dict[str, Any]] = [{"functionResponse": {"name": name, "response": response}}]
    parts.extend(image.gemini() for image in result.images)
    return parts


def _parts(message: Message, names: dict[str, str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Text):
            text: dict[str, Any] = {"text": part.text}
            if part.thought_signature is not None:
                signature = part.thought_signature.for_provider("gemini")
                if signature:
                    text["thoughtSignature"] = signature
            out.append(text)
        elif isinstance(part, (Image, File)):
            out.append(part.gemini())
        elif isinstance(part, ToolCall):
            names[part.id] = part.name
            item: dict[str, Any] = {"functionCall": {"name": part.name, "args": part.arguments}}
            signature = part.gemini_signature()
            if signature:
                item["thoughtSignature"] = signature
            out.append(item)
        elif isinstance(part, ToolResult):
            out.extend(_function_response(part, names))
        elif isinstance(part, Thinking):
            thought: dict[str, Any] = {"text": part.content, "thought": True}
            signature = (part.raw or {}).get("thoughtSignature")
            if signature:
                thought["thoughtSignature"] = signature
            out.append(thought)
    return out


def to_gemini(messages: list[Message]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """``(systemInstruction, contents)``; systemInstruction is ``None`` without system text."""
    system_parts: list[dict[str, Any]] = []
    contents: list[dict[str, Any]] = []
    names: dict[str, str] = {}
    for message in messages:
        if message.role == "system":
            system_parts.extend({"text": t.text} for t in message.text_parts)
            continue
        parts = _parts(message, names)
        if parts:
            role = "model" if message.role == "assistant" else "user"
            contents.append({"role": role, "parts": parts})
    system = {"parts": system_parts} if system_parts else None
    return system, contents
