"""``Message``: one turn of a conversation, a role plus an ordered list of parts."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..errors import PromptError
from ._file import File
from ._image import Detail, Image
from ._message_compat import MessageCompat
from ._parts import Part, Text, Thinking, ToolCall, ToolResult, json_safe
from ._serialize import canonical_part, part_from_log, part_to_log, sha256_json

__all__ = ["ROLES", "Message", "Role"]

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[str, ...] = ("system", "user", "assistant", "tool")
_PART_TYPES = (Text, Image, File, ToolCall, ToolResult, Thinking)


@dataclass
class Message(MessageCompat):
    """A message: ``role`` is system, user, assistant or tool; ``parts`` its content.

    Builders mutate and return the message, so they chain:

    >>> m = Message.user("What is in this picture?").with_text("Be brief.")
    >>> m.completion
    'What is in this picture?\\nBe brief.'
    """

    role: Role
    parts: list[Part] = field(default_factory=list)
    #: Caller metadata carried with the message and its log (never sent to a provider).
    extra: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.extra is not None and not isinstance(self.extra, dict):
            raise PromptError(f"Message extra must be a dict or None, got {self.extra!r:.80}.")
        if self.role not in ROLES:
            raise PromptError(
                f"Unknown message role {self.role!r}; allowed roles are {', '.join(ROLES)}."
            )
        if not isinstance(self.parts, list):
            self.parts = list(self.parts)
        for part in self.parts:
            if not isinstance(part, _PART_TYPES):
                raise PromptError(
                    f"Message part of type {type(part).__name__} is not supported; use Text, "
                    "Image, File, ToolCall, ToolResult or Thinking."
                )

    # ── constructors ──────────────────────────────────────────────────────────
    @classmethod
    def user(cls, text: str | None = None) -> Message:
        """A user message, optionally starting with ``text``."""
        return cls("user", [Text(text)] if text is not None else [])

    @classmethod
    def system(cls, text: str) -> Message:
        """A system message."""
        return cls("system", [Text(text)])

    @classmethod
    def ai(cls, text: str | None = None) -> Message:
        """An assistant message, optionally starting with ``text``."""
        return cls("assistant", [Text(text)] if text is not None else [])

    # ── chainable builders ────────────────────────────────────────────────────
    def with_text(self, text: str) -> Message:
        """Append a text part."""
        self.parts.append(Text(text))
        return self

    def with_image(
        self,
        data: bytes | str | Path | Image,
        detail: Detail = "auto",
        max_size: int | None = None,
        *,
        media_type: str | None = None,
    ) -> Message:
        """Append an image (path, URL, bytes, base64, data URL or ``Image``)."""
        if isinstance(data, Image) and detail == "auto" and max_size is None:
            self.parts.append(data)
        else:
            self.parts.append(Image(data, media_type=media_type, detail=detail, max_size=max_size))
        return self

    def with_file(
        self,
        data: bytes | str | Path | File,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> Message:
        """Append a file (path, URL, bytes, base64, data URL or ``File``)."""
        if isinstance(data, File) and media_type is None and filename is None:
            self.parts.append(data)
        else:
            self.parts.append(File(data, media_type=media_type, filename=filename))
        return self

    async def with_remote_file(
        self,
        data: bytes | str | Path | File,
        provider: str = "openai",
        *,
        media_type: str | None = None,
        filename: str | None = None,
    ) -> Message:
        """Upload a file to ``provider`` and append a reference to it (by file id).

        >>> msg = await Message.user("Summarise").with_remote_file("a.pdf")  # doctest: +SKIP
        """
        source = data if isinstance(data, File) else File(data, media_type, filename)
        self.parts.append(await source.as_remote(provider))
        return self

    def with_tool_call(self, id: str, name: str, arguments: dict[str, Any]) -> Message:
        """Append a tool call (normally on an assistant message)."""
        self.parts.append(ToolCall(id, name, arguments))
        return self

    def with_tool_result(
        self, call_id: str | None = None, result: Any = None, *, tool_call_id: str | None = None
    ) -> Message:
        """Append the result of tool call ``call_id`` (0.0.168 names it ``tool_call_id``)."""
        if (call_id is None) == (tool_call_id is None):
            raise PromptError(
                "with_tool_result needs the tool call's id once: as call_id (or the first "
                "argument) or as tool_call_id."
            )
        self.parts.append(ToolResult(call_id if call_id is not None else tool_call_id, result))
        return self

    def with_thinking(self, content: str) -> Message:
        """Append a reasoning trace."""
        self.parts.append(Thinking(content))
        return self

    # ── views ─────────────────────────────────────────────────────────────────
    @property
    def text_parts(self) -> list[Text]:
        """The Text parts, in order."""
        return [p for p in self.parts if isinstance(p, Text)]

    @property
    def tool_calls(self) -> list[ToolCall]:
        """The ToolCall parts, in order."""
        return [p for p in self.parts if isinstance(p, ToolCall)]

    @property
    def tool_results(self) -> list[ToolResult]:
        """The ToolResult parts, in order."""
        return [p for p in self.parts if isinstance(p, ToolResult)]

    @property
    def thinking_parts(self) -> list[Thinking]:
        """The Thinking parts, in order."""
        return [p for p in self.parts if isinstance(p, Thinking)]

    @property
    def images(self) -> list[Image]:
        """The Image parts, in order (tool-result images excluded)."""
        return [p for p in self.parts if isinstance(p, Image)]

    @property
    def completion(self) -> str | None:
        """The text parts joined with newlines, or ``None`` when there is no text."""
        texts = self.text_parts
        return "\n".join(t.text for t in texts) if texts else None

    @property
    def fingerprint(self) -> str:
        """sha256 hex of the role and canonical parts (images/files by fingerprint)."""
        return sha256_json(self.canonical())

    def canonical(self) -> dict[str, Any]:
        """The JSON value hashed by :attr:`fingerprint`."""
        return {"role": self.role, "parts": [canonical_part(p) for p in self.parts]}

    # ── logs ──────────────────────────────────────────────────────────────────
    def to_log(self) -> dict[str, Any]:
        """A JSON-safe dict holding everything (binary content as base64)."""
        log: dict[str, Any] = {"role": self.role, "content": [part_to_log(p) for p in self.parts]}
        if self.extra:
            log["extra"] = json_safe(self.extra)
        return log

    @classmethod
    def from_log(cls, data: dict[str, Any]) -> Message:
        """Inverse of :meth:`to_log`."""
        if not isinstance(data, dict) or "role" not in data:
            raise PromptError(f"Logged message must be a dict with a 'role', got {data!r:.80}.")
        extra = data.get("extra")
        parts = [part_from_log(p) for p in data.get("content", [])]
        return cls(data["role"], parts, extra=extra if isinstance(extra, dict) else None)
