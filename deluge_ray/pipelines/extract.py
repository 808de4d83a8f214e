"""lm-deluge 0.0.168's import path for :func:`extract` / :func:`extract_async` (aliases onto ``_extract``)."""

from __future__ import annotations

from ._extract import extract, extract_async

__all__ = ["extract", "extract_async"]
