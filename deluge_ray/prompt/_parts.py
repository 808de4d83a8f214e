"""The non-binary content parts of a message: text, thinking, tool calls and tool results.

Binary parts (:class:`~deluge_ray.prompt.Image`, :class:`~deluge_ray.prompt.File`) live in
their own modules. All parts are plain dataclasses, so they pickle and compare by value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, TypeAlias

from ..errors import PromptError
from ._file import File
from ._image import Image
from ._signatures import ThoughtSignature, normalize_signature

__all__ = [
    "Part",
    "Text",
    "Thinking",
    "ToolCall",
    "ToolResult",
    "ToolResultValue",
    "json_safe",
    "json_text",
]


def json_text(value: Any) -> str:
    """The JSON text we send for dict/list values (tool arguments and results).

    One function for both the wire and the token count, so they always agree. A value
    JSON cannot hold (a date, a set, an object) is written as its ``repr``, which is what
    lm-deluge 0.0.168 does too, rather than failing the whole request.
    """
    return json.dumps(value, ensure_ascii=False, default=repr)


def json_safe(value: Any) -> Any:
    """``value`` with every leaf JSON cannot hold replaced by its ``repr`` (for logs)."""
    return json.loads(json_text(value))


def _refuse_built_in(kind: str, built_in: Any, built_in_type: Any, **others: Any) -> None:
    # lm-deluge 0.0.168 names these fields for provider-hosted (built-in) tools and
    # Anthropic container files, which deluge_ray's serialisers do not send; refusing
    # them is better than replaying a conversation that silently lost them.
    given = [k for k, v in {"built_in_type": built_in_type, **others}.items() if v is not None]
    if built_in or given:
        names = (["built_in"] if built_in else []) + given
        raise PromptError(
            f"{kind} got {', '.join(names)}: built-in (provider-hosted) tool calls and their "
            "container files are not supported by deluge_ray; use function tools instead."
        )


@dataclass
class Text:
    """Plain text. ``Text("hello")``.

    ``thought_signature``: Gemini's signature on a text part of its reasoning turn; sent
    back to Gemini (and left out for other providers).
    """

    text: str
    thought_signature: ThoughtSignature | str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise PromptError(f"Text needs a str, got {type(self.text).__name__}.")
        self.thought_signature = normalize_signature(self.thought_signature)


@dataclass
class Thinking:
    """A reasoning trace.

    ``signature`` is Anthropic's thinking signature (required to replay a thinking block).
    ``raw`` keeps other providers' replay data: for OpenAI responses the reasoning item's
    ``id``, ``encrypted_content`` and ``summary``; for Gemini ``thoughtSignature``;
    ``{"type": "redacted_thinking", "data": ...}`` for Anthropic's redacted thinking.
    """

    content: str
    signature: str | None = None
    raw: dict[str, Any] | None = None
    # lm-deluge 0.0.168's names for the same replay data, accepted by keyword so its
    # scripts run: ``raw_payload`` (an OpenAI reasoning item) and ``id`` are folded into
    # ``raw``, which is what the serialisers read; ``summary`` and ``thought_signature``
    # are kept as given.
    raw_payload: dict[str, Any] | None = field(default=None, kw_only=True)
    id: str | None = field(default=None, kw_only=True)
    summary: str | None = field(default=None, kw_only=True)
    thought_signature: ThoughtSignature | str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.content, str):
            raise PromptError(f"Thinking content must be a str, got {type(self.content).__name__}.")
        if self.raw_payload is not None and self.raw is None:
            self.raw = dict(self.raw_payload)
        if self.id is not None:
            self.raw = {**(self.raw or {}), "id": self.id}
        self.thought_signature = normalize_signature(self.thought_signature)


@dataclass
class ToolCall:
    """A model's request to call tool ``name`` with ``arguments``.

    ``raw`` keeps provider replay data; Gemini's ``thoughtSignature`` for a function call
    lives here (``{"thoughtSignature": "..."}``) and is sent back on the functionCall part.
    ``thought_signature`` (0.0.168's name) is the same signature; it wins over ``raw``.
    ``built_in``, ``built_in_type`` and ``extra_body`` are accepted only at their defaults
    (deluge_ray has no provider-hosted tools).
    """

    id: str
    name: str
    arguments: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] | None = None
    built_in: bool = field(default=False, kw_only=True)
    built_in_type: str | None = field(default=None, kw_only=True)
    extra_body: dict[str, Any] | None = field(default=None, kw_only=True)
    thought_signature: ThoughtSignature | str | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        if not isinstance(self.arguments, dict):
            raise PromptError(
                f"ToolCall {self.name!r} arguments must be a dict, got "
                f"{type(self.arguments).__name__}; parse JSON argument strings first."
            )
        _refuse_built_in(
            f"ToolCall {self.name!r}", self.built_in, self.built_in_type, extra_body=self.extra_body
        )
        self.thought_signature = normalize_signature(self.thought_signature)

    def gemini_signature(self) -> str | None:
        """The thoughtSignature to send back to Gemini with this call, if any."""
        if self.thought_signature is not None:
            return self.thought_signature.for_provider("gemini")
        return (self.raw or {}).get("thoughtSignature")


ToolResultValue = str | dict | list


def _check_result(call_id: str, result: Any) -> None:
    if isinstance(result, str):
        return
    if isinstance(result, list) and any(isinstance(item, (Text, Image, File)) for item in result):
        bad = [type(item).__name__ for item in result if not isinstance(item, (Text, Image))]
        if bad:
            raise PromptError(
                f"Tool result for call {call_id!r} mixes content parts with {', '.join(bad)}; "
                "a list result is either JSON values or only Text/Image parts."
            )
        return
    if isinstance(result, (dict, list)):
        try:
            json_text(result)
        except (TypeError, ValueError) as exc:
            raise PromptError(
                f"Tool result for call {call_id!r} is not JSON-serialisable: {exc}."
            ) from exc
        return
    raise PromptError(
        f"Unsupported tool result type {type(result).__name__} for call {call_id!r}; use a "
        "str, a dict or list (sent as JSON), or a list of Text/Image parts."
    )


@dataclass
class ToolResult:
    """The output of tool call ``tool_call_id``.

    ``result`` is a ``str``; a ``dict``/``list`` of JSON values (sent as JSON text); or a
    list of :class:`Text` / :class:`~deluge_ray.prompt.Image` parts.
    """

    tool_call_id: str
    result: ToolResultValue
    # 0.0.168's built-in tool fields; only their defaults are accepted (see ToolCall).
    built_in: bool = field(default=False, kw_only=True)
    built_in_type: str | None = field(default=None, kw_only=True)
    files: list[Any] | None = field(default=None, kw_only=True)

    def __post_init__(self) -> None:
        _check_result(self.tool_call_id, self.result)
        _refuse_built_in(
            f"ToolResult {self.tool_call_id!r}", self.built_in, self.built_in_type, files=self.files
        )

    @property
    def is_parts(self) -> bool:
        """True when ``result`` is a list of Text/Image parts rather than JSON."""
        return isinstance(self.result, list) and any(
            isinstance(item, (Text, Image)) for item in self.result
        )

    @property
    def text(self) -> str:
        """The textual payload: the string, the JSON text, or the joined Text parts."""
        if isinstance(self.result, str):
            return self.result
        if self.is_parts:
            return "\n".join(p.text for p in self.result if isinstance(p, Text))
        return json_text(self.result)

    @property
    def images(self) -> list[Image]:
        """The Image parts of a parts result (empty otherwise)."""
        if not self.is_parts:
            return []
        return [p for p in self.result if isinstance(p, Image)]


Part: TypeAlias = Text | Image | File | ToolCall | ToolResult | Thinking
