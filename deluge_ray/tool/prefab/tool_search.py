"""lm-deluge 0.0.168's import path for :class:`ToolSearchTool` (an alias onto ``_tool_search``)."""

from __future__ import annotations

from ._tool_search import ToolSearchTool

__all__ = ["ToolSearchTool"]
