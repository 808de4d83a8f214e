"""lm-deluge 0.0.168's import path for :class:`Text` (an alias onto ``_parts``)."""

from __future__ import annotations

from ._parts import Text

__all__ = ["Text"]
