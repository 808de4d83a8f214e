"""lm-deluge 0.0.168's import path for :class:`Thinking` (an alias onto ``_parts``)."""

from __future__ import annotations

from ._parts import Thinking
from ._signatures import ThoughtSignature

__all__ = ["Thinking", "ThoughtSignature"]
