"""lm-deluge 0.0.168's import path for :class:`File` (an alias onto ``_file``)."""

from __future__ import annotations

from ._file import File

__all__ = ["File"]
