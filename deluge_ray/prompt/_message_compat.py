"""lm-deluge 0.0.168's deprecated ``Message.add_*`` builders, kept so old scripts run.

Each warns once per call site (``DeprecationWarning``) and does what its ``with_*``
replacement does.
"""

from __future__ import annotations

import warnings
from typing import Any

__all__ = ["MessageCompat"]


def _deprecated(old: str, new: str) -> None:
    warnings.warn(
        f"Message.{old} is deprecated; use Message.{new} (same arguments).",
        DeprecationWarning,
        stacklevel=3,
    )


class MessageCompat:
    """Mixin of :class:`~deluge_ray.prompt.Message`: the ``add_*`` spellings."""

    def add_text(self, content: str) -> Any:
        """Deprecated: use ``with_text``."""
        _deprecated("add_text", "with_text")
        return self.with_text(content)

    def add_image(
        self, data: Any, *, detail: str = "auto", max_size: int | None = None, **kw: Any
    ) -> Any:
        """Deprecated: use ``with_image``."""
        _deprecated("add_image", "with_image")
        return self.with_image(data, detail=detail, max_size=max_size, **kw)

    def add_file(
        self, data: Any, *, media_type: str | None = None, filename: str | None = None
    ) -> Any:
        """Deprecated: use ``with_file``."""
        _deprecated("add_file", "with_file")
        return self.with_file(data, media_type=media_type, filename=filename)

    def add_tool_call(self, id: str, name: str, arguments: dict[str, Any]) -> Any:
        """Deprecated: use ``with_tool_call``."""
        _deprecated("add_tool_call", "with_tool_call")
        return self.with_tool_call(id, name, arguments)

    def add_tool_result(self, tool_call_id: str, result: Any) -> Any:
        """Deprecated: use ``with_tool_result``."""
        _deprecated("add_tool_result", "with_tool_result")
        return self.with_tool_result(tool_call_id, result)

    def add_thinking(self, content: str) -> Any:
        """Deprecated: use ``with_thinking``."""
        _deprecated("add_thinking", "with_thinking")
        return self.with_thinking(content)
