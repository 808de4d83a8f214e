"""lm-deluge 0.0.168's import path for :class:`Message` (an alias onto ``_message``)."""

from __future__ import annotations

from ._message import Message

__all__ = ["Message"]
