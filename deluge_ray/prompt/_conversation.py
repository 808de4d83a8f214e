"""``Conversation``: an ordered list of messages with builders and provider serialisers."""

from __future__ import annotations

import types
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from .._tokens import count_text_tokens
from ..errors import PromptError
from ._anthropic import CachePattern, to_anthropic
from ._conversation_compat import ConversationCompat
from ._file import File
from ._gemini import to_gemini
from ._image import Image
from ._message import Message
from ._openai import to_openai_chat, to_openai_responses
from ._parse import parse_anthropic, parse_openai_chat
from ._parts import Text, Thinking, ToolCall, ToolResult, json_text
from ._serialize import sha256_json

__all__ = ["Conversation"]

T = TypeVar("T")


class _builder(Generic[T]):
    """A method usable on an instance (appends) or on the class (starts a new one).

    lm-deluge code writes both ``Conversation().user("hi")`` and ``Conversation.user("hi")``.
    """

    def __init__(self, func: Callable[..., T]) -> None:
        self.func = func
        self.__doc__ = func.__doc__
        self.__name__ = func.__name__

    def __get__(self, obj: Any, owner: type) -> Callable[..., T]:
        return types.MethodType(self.func, obj if obj is not None else owner())


@dataclass
class Conversation(ConversationCompat):
    """A conversation; builders append and return it, so calls chain.

    >>> c = Conversation.system("Be terse.").user("Hi").ai("Hello.")
    >>> [m.role for m in c.messages]
    ['system', 'user', 'assistant']
    """

    messages: list[Message] = field(default_factory=list)
    # The model that answered last (``with_response``, ``with_message(model_used=)``);
    # bookkeeping only: it is not part of the content, so not of the fingerprint.
    model_used: str | None = None

    # ── builders ──────────────────────────────────────────────────────────────
    @_builder
    def system(self, text: str) -> Conversation:
        """Append a system message."""
        self.messages.append(Message.system(text))
        return self

    @_builder
    def user(
        self,
        text: str,
        image: bytes | str | Path | Image | None = None,
        file: bytes | str | Path | File | None = None,
    ) -> Conversation:
        """Append a user message with optional image and file."""
        message = Message.user(text)
        if image is not None:
            message.with_image(image)
        if file is not None:
            message.with_file(file)
        self.messages.append(message)
        return self

    @_builder
    def ai(self, text: str) -> Conversation:
        """Append an assistant message."""
        self.messages.append(Message.ai(text))
        return self

    def add(self, message: Message) -> Conversation:
        """Append ``message``."""
        if not isinstance(message, Message):
            raise PromptError(f"Conversation.add needs a Message, got {type(message).__name__}.")
        self.messages.append(message)
        return self

    def with_message(self, message: Message, *, model_used: str | None = None) -> Conversation:
        """Append ``message`` (alias of :meth:`add`); ``model_used`` records who wrote it."""
        self.add(message)
        if model_used is not None:
            self.model_used = model_used
        return self

    def with_tool_result(self, tool_call_id: str, result: Any) -> Conversation:
        """Append a tool result; consecutive results share one tool message."""
        part = ToolResult(tool_call_id, result)
        if self.messages and self.messages[-1].role == "tool":
            self.messages[-1].parts.append(part)
        else:
            self.messages.append(Message("tool", [part]))
        return self

    # ── provider formats ──────────────────────────────────────────────────────
    def to_openai(self) -> list[dict[str, Any]]:
        """OpenAI chat-completions ``messages``."""
        return to_openai_chat(self.messages)

    def to_openai_responses(self) -> dict[str, Any]:
        """OpenAI responses ``{"input": [...], "instructions": ...}``."""
        return to_openai_responses(self.messages)

    def to_anthropic(
        self, cache_pattern: CachePattern | None = None
    ) -> tuple[str | list[dict[str, Any]] | None, list[dict[str, Any]]]:
        """Anthropic ``(system, messages)``; see ``_anthropic`` for cache patterns."""
        return to_anthropic(self.messages, cache_pattern)

    def to_gemini(self) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
        """Gemini ``(systemInstruction, contents)``."""
        return to_gemini(self.messages)

    @classmethod
    def from_openai_chat(cls, messages: list[dict[str, Any]]) -> Conversation:
        """Build a conversation from chat-completions messages."""
        return cls(parse_openai_chat(messages))

    @classmethod
    def from_anthropic(
        cls, messages: list[dict[str, Any]], system: str | list[dict[str, Any]] | None = None
    ) -> Conversation:
        """Build a conversation from Anthropic messages (and system prompt)."""
        return cls(parse_anthropic(messages, system))

    # ── logs, identity, size ──────────────────────────────────────────────────
    def to_log(self) -> dict[str, Any]:
        """A JSON-safe dict holding every part (images and files as base64)."""
        log: dict[str, Any] = {"messages": [m.to_log() for m in self.messages]}
        if self.model_used is not None:
            log["model_used"] = self.model_used
        return log

    @classmethod
    def from_log(cls, payload: dict[str, Any]) -> Conversation:
        """Inverse of :meth:`to_log`."""
        if not isinstance(payload, dict) or not isinstance(payload.get("messages"), list):
            raise PromptError("Conversation log must be a dict with a 'messages' list.")
        messages = [Message.from_log(m) for m in payload["messages"]]
        return cls(messages, model_used=payload.get("model_used"))

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the canonical content: equal content, equal fingerprint."""
        return sha256_json([m.canonical() for m in self.messages])

    def count_tokens(self, max_new_tokens: int = 0, img_tokens: int = 85) -> int:
        """Estimate the tokens a request uses, for rate-limit scheduling.

        Σ ``count_text_tokens`` over every text piece (text, thinking, tool-call name and
        JSON arguments, tool-result text or JSON) + 4 per message + ``img_tokens`` per
        image (tool-result images included) + ``max_new_tokens``. The mock provider
        counts the same way, so estimates and mock usage agree.
        """
        if max_new_tokens < 0:
            raise PromptError(f"max_new_tokens must be >= 0, got {max_new_tokens}.")
        total = max_new_tokens + 4 * len(self.messages)
        for message in self.messages:
            for part in message.parts:
                if isinstance(part, Text):
                    total += count_text_tokens(part.text)
                elif isinstance(part, Thinking):
                    total += count_text_tokens(part.content)
                elif isinstance(part, ToolCall):
                    total += count_text_tokens(part.name)
                    total += count_text_tokens(json_text(part.arguments))
                elif isinstance(part, ToolResult):
                    if part.is_parts:
                        for item in part.result:  # type: ignore[union-attr]
                            if isinstance(item, Text):
                                total += count_text_tokens(item.text)
                            else:
                                total += img_tokens
                    else:
                        total += count_text_tokens(part.text)
                elif isinstance(part, Image):
                    total += img_tokens
        return total
