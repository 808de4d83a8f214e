"""lm-deluge 0.0.168's import path for :class:`StatusTracker` (an alias onto ``client``)."""

from __future__ import annotations

from .client import StatusTracker

__all__ = ["StatusTracker"]
