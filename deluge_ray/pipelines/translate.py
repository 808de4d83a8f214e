"""lm-deluge 0.0.168's import path for :func:`translate` and :func:`is_english` (aliases)."""

from __future__ import annotations

from ._language import is_english
from ._translate import translate, translate_async

__all__ = ["is_english", "translate", "translate_async"]
