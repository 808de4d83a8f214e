"""lm-deluge 0.0.168's import path for :class:`ToolComposer` (OTC; an alias onto ``_composer``)."""

from __future__ import annotations

from ._composer import ToolComposer

__all__ = ["ToolComposer"]
