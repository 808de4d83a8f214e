"""``prompts_to_conversations``: accept every prompt shape the client takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import PromptError
from ._conversation import Conversation
from ._message import Message

__all__ = ["Prompt", "UnreadablePrompt", "prompts_to_conversations", "to_conversations"]

Prompt = str | Message | Conversation | list[dict[str, Any]]

_ANTHROPIC_BLOCKS = {"tool_use", "tool_result", "thinking", "redacted_thinking", "document"}
_OPENAI_BLOCKS = {"image_url", "file", "input_audio", "refusal"}


@dataclass
class UnreadablePrompt(Conversation):
    """Stands in for a message list that could not be read; ``problem`` says why.

    The client's engine answers it with an error response naming its index instead of
    failing the whole call, so one bad row of a batch costs only itself.
    """

    problem: str = ""


def _looks_anthropic(messages: list[dict[str, Any]]) -> bool:
    """True for Anthropic transcripts; plain role/content lists read the same either way."""
    for msg in messages:
        if msg.get("role") in ("system", "developer", "tool") or "tool_calls" in msg:
            return False
        content = msg.get("content")
        if not isinstance(content, list):
            continue
        for block in content:
            if not isinstance(block, dict):
                continue
            kind = block.get("type")
            if kind in _OPENAI_BLOCKS:
                return False
            if kind in _ANTHROPIC_BLOCKS or (kind == "image" and "source" in block):
                return True
    return False


def _one(prompt: Any, index: int, keep_unreadable: bool = False) -> Conversation:
    if isinstance(prompt, Conversation):
        return prompt
    if isinstance(prompt, str):
        return Conversation().user(prompt)
    if isinstance(prompt, Message):
        return Conversation([prompt])
    if isinstance(prompt, list) and all(isinstance(m, dict) for m in prompt):
        try:
            if _looks_anthropic(prompt):
                return Conversation.from_anthropic(prompt)
            return Conversation.from_openai_chat(prompt)
        except (PromptError, KeyError, TypeError, ValueError, AttributeError) as exc:
            if keep_unreadable:
                return UnreadablePrompt(problem=f"its message list could not be read: {exc}")
            raise PromptError(f"prompts[{index}] is not a valid message list: {exc}") from exc
    raise PromptError(
        f"prompts[{index}] has type {type(prompt).__name__}; expected a str, Message, "
        "Conversation, or a list of OpenAI/Anthropic message dicts."
    )


def prompts_to_conversations(prompts: Any) -> list[Conversation]:
    """Convert each prompt to a :class:`Conversation`, keeping order.

    A lone str/Message/Conversation is treated as a one-item list.

    >>> [c.messages[0].completion for c in prompts_to_conversations(["hi", "yo"])]
    ['hi', 'yo']
    """
    if isinstance(prompts, (str, Message, Conversation)):
        prompts = [prompts]
    if not isinstance(prompts, (list, tuple)):
        raise PromptError(f"prompts must be a list of prompts, got {type(prompts).__name__}.")
    return [_one(p, i) for i, p in enumerate(prompts)]


def to_conversations(prompts: Any, *, keep_unreadable: bool = False) -> list[Conversation]:
    """``prompts`` (one prompt or a sequence of them, possibly empty) as conversations.

    A prompt of a type that is no prompt at all raises :class:`PromptError` naming its
    index. With ``keep_unreadable`` a message list whose content cannot be read becomes an
    :class:`UnreadablePrompt` instead, for the caller to fail alone.
    """
    if isinstance(prompts, (str, Conversation)) or not isinstance(prompts, Sequence):
        prompts = [prompts]
    if not keep_unreadable:
        return prompts_to_conversations(list(prompts))
    return [_one(p, i, keep_unreadable=True) for i, p in enumerate(prompts)]
