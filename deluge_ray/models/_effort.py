"""Reasoning-effort suffixes on model names: ``"gpt-5-high"`` is gpt-5 at high effort.

The rule is lm-deluge 0.0.168's: a registered name always wins (``gpt-5.1-codex-max`` is a
model, not codex at "max" effort); otherwise a known suffix is stripped when what remains
is registered. Only a single model name sets the effort: in a list, each suffix is
stripped but the effort is not applied (0.0.168 does the same).
"""

from __future__ import annotations

from collections.abc import Sequence

from ._registry import registry

__all__ = ["EFFORT_SUFFIXES", "split_effort_suffix", "split_effort_suffixes"]

#: Suffix -> reasoning effort, tried in this order.
EFFORT_SUFFIXES: dict[str, str] = {
    "-low": "low",
    "-medium": "medium",
    "-high": "high",
    "-xhigh": "xhigh",
    "-max": "max",
    "-minimal": "minimal",
    "-none": "none",
}


def split_effort_suffix(name: str) -> tuple[str, str | None]:
    """``(model id, effort)`` for ``name``; ``effort`` is ``None`` when there is no suffix.

    >>> split_effort_suffix("o3-high")
    ('o3', 'high')
    >>> split_effort_suffix("gpt-4.1-mini")
    ('gpt-4.1-mini', None)
    """
    if name in registry:
        return name, None
    for suffix, effort in EFFORT_SUFFIXES.items():
        if name.endswith(suffix) and len(name) > len(suffix):
            base = name[: -len(suffix)]
            if base in registry:
                return base, effort
    return name, None


def split_effort_suffixes(model_names: str | Sequence[str]) -> tuple[list[str], str | None]:
    """The model ids of a client's ``model_names`` and the effort a single name carries."""
    if isinstance(model_names, str):
        name, effort = split_effort_suffix(model_names)
        return [name], effort
    return [split_effort_suffix(n)[0] for n in model_names or []], None
