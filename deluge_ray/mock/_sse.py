"""Server-sent-event frame encoding shared by every streaming wire format."""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DONE_FRAME", "data_frame", "event_frame"]

# OpenAI ends a chat-completions stream with this sentinel instead of a JSON object.
DONE_FRAME = b"data: [DONE]\n\n"


def _dumps(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode()


def data_frame(payload: Any) -> bytes:
    """A bare ``data:`` frame (OpenAI chat, Gemini)."""
    return b"data: " + _dumps(payload) + b"\n\n"


def event_frame(event: str, payload: Any) -> bytes:
    """A named ``event:`` frame (Anthropic, OpenAI responses)."""
    return b"event: " + event.encode() + b"\ndata: " + _dumps(payload) + b"\n\n"
