"""lm-deluge 0.0.168's import path for :class:`MemoryManager` (an alias onto ``_memory``)."""

from __future__ import annotations

from ._memory import MemoryItem, MemoryManager

__all__ = ["MemoryItem", "MemoryManager"]
