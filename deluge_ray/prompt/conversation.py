"""lm-deluge 0.0.168's import path for :class:`Conversation` (an alias; the class lives in _conversation)."""

from __future__ import annotations

from ._conversation import Conversation

__all__ = ["Conversation"]
