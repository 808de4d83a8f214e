"""lm-deluge 0.0.168's import path for :class:`Image` (an alias onto ``_image``)."""

from __future__ import annotations

from ._image import Image

__all__ = ["Image"]
