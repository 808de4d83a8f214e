"""Serialise messages to Anthropic's messages format, with prompt-cache breakpoints.

Cache patterns (``cache_control: {"type": "ephemeral"}`` marks the end of a cached prefix):

- ``system_and_tools``: the system prompt becomes a list of text blocks and its last block
  is marked; the request builder also marks the last tool with
  :func:`apply_tool_cache_control`.
- ``tools_only``: only the last tool is marked (by the request builder, via
  :func:`apply_tool_cache_control`); the messages are unchanged.
- ``last_user_message`` / ``last_2_user_messages`` / ``last_3_user_messages``: the last
  content block of the last 1/2/3 user-role messages is marked (tool results count: they
  are user messages on Anthropic's wire).
"""

from __future__ import annotations

import copy
from typing import Any, Literal, get_args

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._message import Message
from ._parts import Text, Thinking, ToolCall, ToolResult

__all__ = [
    "CACHE_PATTERNS",
    "CachePattern",
    "apply_tool_cache_control",
    "check_cache_pattern",
    "to_anthropic",
]

CachePattern = Literal[
    "system_and_tools",
    "tools_only",
    "last_user_message",
    "last_2_user_messages",
    "last_3_user_messages",
]
CACHE_PATTERNS: tuple[str, ...] = get_args(CachePattern)
_EPHEMERAL = {"type": "ephemeral"}
_LAST_N = {"last_user_message": 1, "last_2_user_messages": 2, "last_3_user_messages": 3}


def check_cache_pattern(cache_pattern: str | None) -> None:
    """Raise PromptError unless ``cache_pattern`` is None or a known pattern."""
    if cache_pattern is not None and cache_pattern not in CACHE_PATTERNS:
        raise PromptError(
            f"Unknown cache_pattern {cache_pattern!r}; use one of {', '.join(CACHE_PATTERNS)}."
        )


def apply_tool_cache_control(
    tools: list[dict[str, Any]], cache_pattern: str | None
) -> list[dict[str, Any]]:
    """Return ``tools`` (Anthropic tool definitions) with the last one marked for caching.

    For ``system_and_tools`` and ``tools_only``; other patterns return the tools unchanged.
    The input list is not modified.

    >>> apply_tool_cache_control([{"name": "a"}], "tools_only")[-1]["cache_control"]
    {'type': 'ephemeral'}
    """
    check_cache_pattern(cache_pattern)
    if cache_pattern not in ("system_and_tools", "tools_only") or not tools:
        return list(tools)
    out = [dict(t) for t in tools]
    out[-1]["cache_control"] = dict(_EPHEMERAL)
    return out


def _tool_result_block(result: ToolResult) -> dict[str, Any]:
    content: str | list[dict[str, Any]]
    if result.is_parts:
        content = [_block(p) for p in result.result]  # type: ignore[union-attr]
    else:
        content = result.text
    return {"type": "tool_result", "tool_use_id": result.tool_call_id, "content": content}


def _block(part: Any) -> dict[str, Any] | None:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, (Image, File)):
        return part.anthropic()
    if isinstance(part, ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
    if isinstance(part, ToolResult):
        return _tool_result_block(part)
    if isinstance(part, Thinking):
        raw = part.raw or {}
        if raw.get("type") == "redacted_thinking":
            return {"type": "redacted_thinking", "data": raw.get("data", "")}
        if part.signature is None:
            # Anthropic rejects unsigned thinking blocks; earlier turns' thinking may be
            # omitted, so an unsigned trace (from another provider or a user) is dropped.
            return None
        return {"type": "thinking", "thinking": part.content, "signature": part.signature}
    raise PromptError(f"Cannot send part of type {type(part).__name__} to Anthropic.")


def _mark_last_block(message: dict[str, Any]) -> None:
    content = message["content"]
    if isinstance(content, str):
        message["content"] = [{"type": "text", "text": content, "cache_control": dict(_EPHEMERAL)}]
    elif content:
        content[-1]["cache_control"] = dict(_EPHEMERAL)


def to_anthropic(
    messages: list[Message], cache_pattern: CachePattern | None = None
) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
    """``(system, messages)`` for Anthropic's messages API."""
    check_cache_pattern(cache_pattern)
    system_texts: list[str] = []
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.role == "system":
            system_texts.extend(t.text for t in message.text_parts)
            continue
        role = "assistant" if message.role == "assistant" else "user"
        blocks = [b for b in (_block(p) for p in message.parts) if b is not None]
        if not blocks:
            continue
        is_results = all(b["type"] == "tool_result" for b in blocks)
        prev = out[-1] if out else None
        if (
            is_results
            and prev is not None
            and prev["role"] == "user"
            and isinstance(prev["content"], list)
            and all(b["type"] == "tool_result" for b in prev["content"])
        ):
            prev["content"].extend(blocks)  # parallel results belong in one user turn
            continue
        if len(blocks) == 1 and blocks[0]["type"] == "text" and role == "user":
            out.append({"role": role, "content": blocks[0]["text"]})
        else:
            out.append({"role": role, "content": blocks})

    system: str | list[dict[str, Any]] | None = "\n\n".join(system_texts) if system_texts else None
    if cache_pattern == "system_and_tools" and system is not None:
        system = [{"type": "text", "text": system, "cache_control": dict(_EPHEMERAL)}]
    n = _LAST_N.get(cache_pattern or "")
    if n:
        out = copy.deepcopy(out)
        user_indexes = [i for i, m in enumerate(out) if m["role"] == "user"]
        for i in user_indexes[-n:]:
            _mark_last_block(out[i])
    return system, out
