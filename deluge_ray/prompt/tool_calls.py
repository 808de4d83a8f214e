"""lm-deluge 0.0.168's import path for tool calls and results (aliases onto ``_parts``).

``ToolResultPart`` is what a multi-part tool result may hold: text or images."""

from __future__ import annotations

from ._image import Image
from ._parts import Text, ToolCall, ToolResult

ToolResultPart = Text | Image

__all__ = ["ToolCall", "ToolResult", "ToolResultPart"]
