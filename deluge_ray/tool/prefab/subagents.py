"""lm-deluge 0.0.168's import path for :class:`SubAgentManager` (an alias onto ``_subagents``)."""

from __future__ import annotations

from ._subagents import SubAgentManager

__all__ = ["SubAgentManager"]
