"""lm-deluge 0.0.168's import path for :class:`BatchTool` (an alias onto ``_batch``)."""

from __future__ import annotations

from ._batch import BatchTool

__all__ = ["BatchTool"]
