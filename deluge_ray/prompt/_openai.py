"""Serialise messages to OpenAI's chat-completions and responses formats.

Chat-completions tool messages carry only text, so images returned by a tool travel in a
user message right after the tool messages; each group starts with the text
``TOOL_IMAGES_MARKER.format(id)`` so :func:`~deluge_ray.prompt.Conversation.from_openai_chat`
can fold them back into their tool result. Chat completions has no way to replay
reasoning, so Thinking parts are left out of ``to_openai()``; the responses API replays
them as reasoning items when ``Thinking.raw`` holds the item ``id``.
"""

from __future__ import annotations

from typing import Any

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._message import Message
from ._parts import Text, Thinking, ToolCall, ToolResult, json_text

__all__ = ["TOOL_IMAGES_MARKER", "to_openai_chat", "to_openai_responses"]

TOOL_IMAGES_MARKER = "Images returned by tool call {}:"


def _chat_part(part: Any, role: str) -> dict[str, Any]:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, Image):
        return part.oa_chat()
    if isinstance(part, File):
        return part.oa_chat()
    raise PromptError(f"{type(part).__name__} cannot appear in a {role} chat-completions message.")


def _chat_content(parts: list[Any], role: str) -> str | list[dict[str, Any]]:
    # A lone text part goes as a plain string: the most widely accepted shape.
    if len(parts) == 1 and isinstance(parts[0], Text):
        return parts[0].text
    return [_chat_part(p, role) for p in parts]


def _tool_message(result: ToolResult) -> dict[str, Any]:
    content: str | list[dict[str, Any]]
    if result.is_parts:
        texts = [p for p in result.result if isinstance(p, Text)]  # type: ignore[union-attr]
        content = [{"type": "text", "text": t.text} for t in texts] if texts else ""
    else:
        content = result.text
    return {"role": "tool", "tool_call_id": result.tool_call_id, "content": content}


def _assistant_chat(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant"}
    texts = message.text_parts
    for part in message.parts:
        if isinstance(part, (Image, File)):
            raise PromptError(
                "OpenAI chat completions cannot carry images or files in assistant messages; "
                "move them to a user message."
            )
    if texts:
        out["content"] = (
            texts[0].text if len(texts) == 1 else [_chat_part(t, "assistant") for t in texts]
        )
    calls = message.tool_calls
    if calls:
        out["tool_calls"] = [
            {
                "id": c.id,
                "type": "function",
                "function": {"name": c.name, "arguments": json_text(c.arguments)},
            }
            for c in calls
        ]
    if "content" not in out and "tool_calls" not in out:
        out["content"] = ""  # e.g. a thinking-only turn: keep the turn, drop the reasoning
    return out


def to_openai_chat(messages: list[Message]) -> list[dict[str, Any]]:
    """Chat-completions ``messages`` for ``messages``."""
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "assistant":
            out.append(_assistant_chat(message))
            continue
        results = message.tool_results
        rest = [p for p in message.parts if not isinstance(p, (ToolResult, Thinking, ToolCall))]
        if results:
            out.extend(_tool_message(r) for r in results)
            follow: list[Any] = []
            for r in results:
                if r.images:
                    follow.append(Text(TOOL_IMAGES_MARKER.format(r.tool_call_id)))
                    follow.extend(r.images)
            follow.extend(rest)
            if follow:
                out.append({"role": "user", "content": _chat_content(follow, "user")})
            continue
        role = "user" if message.role == "tool" else message.role
        if rest:
            out.append({"role": role, "content": _chat_content(rest, role)})
    return out


# ── responses API ──────────────────────────────────────────────────────────────


def _resp_part(part: Any) -> dict[str, Any]:
    if isinstance(part, Text):
        return {"type": "input_text", "text": part.text}
    if isinstance(part, (Image, File)):
        return part.oa_resp()
    raise PromptError(f"{type(part).__name__} cannot appear in a responses-API message.")


def _function_output(result: ToolResult) -> dict[str, Any]:
    output: str | list[dict[str, Any]]
    if result.is_parts:
        output = [_resp_part(p) for p in result.result]  # type: ignore[union-attr]
    else:
        output = result.text
    return {"type": "function_call_output", "call_id": result.tool_call_id, "output": output}


def _reasoning_item(thinking: Thinking) -> dict[str, Any] | None:
    raw = thinking.raw or {}
    if not raw.get("id"):
        return None  # OpenAI only accepts reasoning items it issued (they need their id)
    summary = raw.get("summary")
    if summary is None:
        summary = [{"type": "summary_text", "text": thinking.content}] if thinking.content else []
    item: dict[str, Any] = {"type": "reasoning", "id": raw["id"], "summary": summary}
    if raw.get("encrypted_content"):
        item["encrypted_content"] = raw["encrypted_content"]
    return item


def _assistant_items(message: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    texts: list[str] = []

    def flush() -> None:
        if texts:
            items.append({"type": "message", "role": "assistant", "content": "\n".join(texts)})
            texts.clear()

    # Items keep the order of the parts: reasoning, then text, then calls, as produced.
    for part in message.parts:
        if isinstance(part, Text):
            texts.append(part.text)
            continue
        flush()
        if isinstance(part, ToolCall):
            items.append(
                {
                    "type": "function_call",
                    "call_id": part.id,
                    "name": part.name,
                    "arguments": json_text(part.arguments),
                }
            )
        elif isinstance(part, Thinking):
            reasoning = _reasoning_item(part)
            if reasoning is not None:
                items.append(reasoning)
        elif isinstance(part, ToolResult):
            items.append(_function_output(part))
        else:
            raise PromptError(
                f"{type(part).__name__} cannot appear in an assistant responses-API message."
            )
    flush()
    return items


def to_openai_responses(messages: list[Message]) -> dict[str, Any]:
    """``{"input": [...], "instructions": str}`` (instructions only with system messages)."""
    instructions: list[str] = []
    items: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            instructions.extend(t.text for t in message.text_parts)
            continue
        if message.role == "assistant":
            items.extend(_assistant_items(message))
            continue
        items.extend(_function_output(r) for r in message.tool_results)
        rest = [p for p in message.parts if isinstance(p, (Text, Image, File))]
        if rest:
            content = [_resp_part(p) for p in rest]
            items.append({"type": "message", "role": "user", "content": content})
    out: dict[str, Any] = {"input": items}
    if instructions:
        out["instructions"] = "\n\n".join(instructions)
    return out
