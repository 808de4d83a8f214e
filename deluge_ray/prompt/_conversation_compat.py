"""lm-deluge 0.0.168's conversation helpers that scripts rely on, as a mixin.

``from_unknown`` (parse messages without knowing their provider), ``with_response`` /
``with_tool_results`` (fold a model's answer or tool results back in), ``print`` and
``lock_images_as_bytes``. The ``model_used`` bookkeeping itself lives on the dataclass.
"""

from __future__ import annotations

import json
from typing import Any

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._parts import Text, Thinking, ToolCall, ToolResult

__all__ = ["ConversationCompat"]

# Block types only Anthropic's message format has; "tool"/"system" roles and
# "tool_calls"/"tool_call_id" keys only OpenAI's.
_ANTHROPIC_BLOCKS = {"tool_use", "tool_result", "thinking", "redacted_thinking"}
_OPENAI_KEYS = ("tool_calls", "function_call", "tool_call_id")


def guess_provider(messages: list[dict[str, Any]]) -> str:
    """``"openai"`` or ``"anthropic"``: whose message format ``messages`` looks like.

    OpenAI wins a tie (its format is the more permissive one to try first).
    """
    openai = anthropic = False
    for msg in messages:
        if not isinstance(msg, dict):
            continue
        if msg.get("role") in ("tool", "system") or any(k in msg for k in _OPENAI_KEYS):
            openai = True
        content = msg.get("content")
        if isinstance(content, list):
            anthropic |= any(
                isinstance(b, dict) and b.get("type") in _ANTHROPIC_BLOCKS for b in content
            )
    return "anthropic" if anthropic and not openai else "openai"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more chars]"


def _describe(part: Any, limit: int, indent: int) -> list[str]:
    """The printed lines of one part (see ``ConversationCompat.print``)."""
    if isinstance(part, Text):
        return ["  " + line for line in _clip(part.text, limit).split("\n")]
    if isinstance(part, Thinking):
        return ["  (thinking) " + _clip(part.content, limit)]
    if isinstance(part, ToolCall):
        args = json.dumps(part.arguments, indent=indent, ensure_ascii=False, default=str)
        return [f"  tool call {part.name} (id: {part.id})"] + [
            "    " + line for line in args.split("\n")
        ]
    if isinstance(part, ToolResult):
        if isinstance(part.result, str):
            body = _clip(part.result, limit)
        elif isinstance(part.result, dict):
            body = json.dumps(part.result, indent=indent, ensure_ascii=False, default=str)
        else:
            body = f"<{len(part.result)} content blocks>"
        return [f"  tool result (call_id: {part.tool_call_id})"] + [
            "    " + line for line in body.split("\n")
        ]
    if isinstance(part, Image):
        return [f"  <Image {part.data if part.is_url else f'({len(part.data)} bytes)'}>"]
    if isinstance(part, File):
        return [f"  <File {part.filename or part.file_id or ''}>"]
    return [f"  <{type(part).__name__}>"]


class ConversationCompat:
    """Mixin of :class:`~deluge_ray.prompt.Conversation` with 0.0.168's helpers."""

    @classmethod
    def from_unknown(
        cls, messages: list[dict[str, Any]] | dict[str, Any], *, system: Any = None
    ) -> tuple[Any, str]:
        """``(conversation, format)`` for messages of unknown origin.

        ``format`` is ``"log"`` (a :meth:`to_log` dict), ``"openai"`` or ``"anthropic"``;
        the guessed format is tried first, then the other.
        """
        if isinstance(messages, dict) and "messages" in messages:
            return cls.from_log(messages), "log"
        if not isinstance(messages, list):
            raise PromptError(
                "from_unknown needs a list of message dicts or a to_log() dict with a "
                f"'messages' key, got {type(messages).__name__}."
            )
        order = ["openai", "anthropic"]
        if guess_provider(messages) == "anthropic":
            order.reverse()
        errors: list[str] = []
        for fmt in order:
            try:
                if fmt == "openai":
                    return cls.from_openai_chat(messages), fmt
                return cls.from_anthropic(messages, system=system), fmt
            except Exception as exc:  # try the other format, report both if both fail
                errors.append(f"{fmt}: {exc}")
        raise PromptError(
            "Could not read the messages as OpenAI or Anthropic format (" + "; ".join(errors) + ")."
        )

    def with_response(self, response: Any) -> Any:
        """Append a response's message (if it has one) and record its model in ``model_used``."""
        if response.content is not None:
            self.messages.append(response.content)
        self.model_used = response.model_internal
        return self

    def with_tool_results(self, results: list[tuple[str, Any]]) -> Any:
        """Append ``(call id, result)`` pairs, e.g. what ``execute_tool_calls`` returns."""
        for call_id, result in results:
            self.with_tool_result(call_id, result)
        return self

    def lock_images_as_bytes(self) -> Any:
        """Make every image and file hold its bytes, so a cache key cannot drift.

        deluge_ray already reads paths and decodes base64 when a part is built, so only
        URL parts are left as they are (deluge_ray never downloads; see the README).
        """
        return self

    def print(self, max_text_length: int = 500, indent: int = 2) -> None:
        """Print the conversation, one block per message, long texts clipped."""
        lines = [f"Conversation ({len(self.messages)} messages)", "=" * 60]
        for msg in self.messages:
            lines.append(f"[{msg.role.upper()}]")
            for part in msg.parts:
                lines.extend(_describe(part, max_text_length, indent))
            lines.append("")
        print("\n".join(lines))
