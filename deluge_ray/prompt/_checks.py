"""Per-prompt checks made before sending: what a provider would refuse, found on the driver.

A prompt that cannot be sent (a lone surrogate that UTF-8 cannot encode, an empty
conversation, only system messages for a provider that needs a user turn, image bytes that
do not decode) must fail *alone*, with a message naming it, instead of failing every prompt
taken in the same engine tick or costing a request, a retry and rate-limit capacity.

:func:`prompt_problem` returns that message (or ``None``); it never raises for bad content.

    >>> from deluge_ray.prompt import Conversation
    >>> claude = [("claude-4.5-haiku", "anthropic")]
    >>> prompt_problem(Conversation().user("fine"), claude) is None
    True
    >>> prompt_problem(Conversation().system("only rules"), claude)
    'it has only system messages; claude-4.5-haiku (Anthropic API) needs a user message: add one'
"""

from __future__ import annotations

import io
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from ._conversation import Conversation
from ._image import Image
from ._parts import Text, ToolResult
from ._prompts import UnreadablePrompt

__all__ = ["prompt_problem"]

_SURROGATE = re.compile("[\ud800-\udfff]")
# Wire formats whose APIs refuse a request without a user (or assistant) turn.
_NEEDS_A_TURN = {"anthropic": "Anthropic API", "gemini": "Gemini API"}


def prompt_problem(conversation: Conversation, targets: Iterable[tuple[str, str]]) -> str | None:
    """Why ``conversation`` cannot be sent, or ``None``.

    ``targets`` are the ``(model id, api_spec)`` pairs the prompt may be routed to; a
    provider's rule applies as soon as the prompt may go to one of its models.
    """
    if isinstance(conversation, UnreadablePrompt):
        return conversation.problem
    if not conversation.messages:
        return "the conversation is empty (no messages); add at least one user message"
    for index, message in enumerate(conversation.messages):
        problem = _encoding_problem(message)
        if problem is not None:
            return f"message {index} ({message.role}) {problem}"
    if all(m.role == "system" for m in conversation.messages):
        for model_id, api in targets:
            if api in _NEEDS_A_TURN:
                return (
                    f"it has only system messages; {model_id} ({_NEEDS_A_TURN[api]}) needs "
                    "a user message: add one"
                )
    for index, message in enumerate(conversation.messages):
        for image in _images(message.parts):
            problem = _image_problem(image)
            if problem is not None:
                return f"message {index} ({message.role}) has an image that {problem}"
    return None


def _encoding_problem(message: Any) -> str | None:
    """A lone surrogate anywhere in the message (text, tool calls, results, URLs)."""
    if all(type(part) is Text for part in message.parts):
        # The common case, read directly: building the canonical form costs ~3x more.
        if not any(_SURROGATE.search(part.text) for part in message.parts):
            return None
    try:
        canonical = message.canonical()
    except UnicodeEncodeError as exc:  # e.g. an image URL, hashed as UTF-8
        return f"holds text that is not valid Unicode ({exc.reason}); fix or drop it"
    # One C-speed pass over the whole message; the slow walk runs only when it finds one.
    if not _SURROGATE.search(json.dumps(canonical, ensure_ascii=False, default=repr)):
        return None
    found = _first_surrogate(canonical)
    if found is None:
        return None
    text, position = found
    return (
        f"contains a lone surrogate (U+{ord(text[position]):04X}) at character {position} "
        f"of {_excerpt(text, position)}; it cannot be encoded as UTF-8 (it usually comes "
        "from decoding bytes with errors='surrogateescape'): fix or drop that character"
    )


def _first_surrogate(value: Any) -> tuple[str, int] | None:
    if isinstance(value, str):
        match = _SURROGATE.search(value)
        return (value, match.start()) if match else None
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, (list, tuple)):
        for item in value:
            found = _first_surrogate(item)
            if found is not None:
                return found
    return None


def _excerpt(text: str, position: int) -> str:
    # Shown with the bad character escaped, so the message itself stays encodable.
    start = max(0, position - 20)
    return f"{'...' if start else ''}{text[start : position + 20]!r}"


def _images(parts: Iterable[Any]) -> Iterable[Image]:
    for part in parts:
        if isinstance(part, Image):
            yield part
        elif isinstance(part, ToolResult) and part.is_parts:
            yield from (p for p in part.result if isinstance(p, Image))  # type: ignore[union-attr]


class _DecodeVerdicts:
    """Whether image bytes decode, remembered by fingerprint: a batch often repeats one
    image in every prompt, and decoding is the expensive part of these checks."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._verdicts: OrderedDict[str, str | None] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, image: Image) -> str | None:
        key = image.fingerprint
        with self._lock:
            if key in self._verdicts:
                self._verdicts.move_to_end(key)
                return self._verdicts[key]
        verdict = _decode_problem(image.data)  # type: ignore[arg-type]
        with self._lock:
            self._verdicts[key] = verdict
            while len(self._verdicts) > self._size:
                self._verdicts.popitem(last=False)
        return verdict


def _decode_problem(data: bytes) -> str | None:
    from PIL import Image as PILImage

    try:
        with PILImage.open(io.BytesIO(data)) as img:
            img.load()  # a truncated or corrupt body fails here, not at open()
    except Exception as exc:  # Pillow raises many types (OSError, SyntaxError, ...)
        return (
            f"does not decode ({len(data)} bytes: {type(exc).__name__}: {exc}); "
            "pass a complete PNG, JPEG, GIF or WebP file"
        )
    return None


_VERDICTS = _DecodeVerdicts()


def _image_problem(image: Image) -> str | None:
    if image.is_url:
        return None  # never fetched here: the provider reads URLs itself
    return _VERDICTS.get(image)
