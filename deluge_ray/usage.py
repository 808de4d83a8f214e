"""lm-deluge 0.0.168's import path for :class:`Usage` (an alias onto ``api_requests.response``)."""

from __future__ import annotations

from .api_requests.response import Usage

__all__ = ["Usage"]
