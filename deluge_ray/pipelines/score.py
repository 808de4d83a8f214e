"""lm-deluge 0.0.168's import path for :func:`score_llm` (an alias onto ``_score``)."""

from __future__ import annotations

from ._score import score_llm, score_llm_async

__all__ = ["score_llm", "score_llm_async"]
