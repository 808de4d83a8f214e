"""Anthropic's Claude models: wire names, public prices (USD per million tokens), capabilities.

Cache writes are the 5-minute rate (1.25x input); cache reads are 0.1x input. Every row
also gets the aliases Anthropic users commonly write (``claude-sonnet-4.5``,
``claude-sonnet-4-5``) in ``ANTHROPIC_ALIASES``.
"""

from __future__ import annotations

from typing import Any


def _row(
    name: str, inp: float, out: float, *, thinking: bool = True, **flags: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "input_cost": inp,
        "cached_input_cost": round(inp * 0.1, 6),
        "cache_write_cost": round(inp * 1.25, 6),
        "output_cost": out,
        "supports_json": True,
        "supports_tools": True,
        "supports_images": True,
        "reasoning_model": thinking,
        **flags,
    }


ANTHROPIC_MODELS: dict[str, dict[str, Any]] = {
    "claude-4.5-opus": _row("claude-opus-4-5-20251101", 5.0, 25.0, supports_effort=True),
    "claude-4.5-sonnet": _row("claude-sonnet-4-5-20250929", 3.0, 15.0),
    "claude-4.5-haiku": _row("claude-haiku-4-5-20251001", 1.0, 5.0),
    "claude-4.1-opus": _row("claude-opus-4-1-20250805", 15.0, 75.0),
    "claude-4-opus": _row("claude-opus-4-20250514", 15.0, 75.0),
    "claude-4-sonnet": _row("claude-sonnet-4-20250514", 3.0, 15.0),
    "claude-3.7-sonnet": _row("claude-3-7-sonnet-20250219", 3.0, 15.0),
    "claude-3.5-haiku": _row("claude-3-5-haiku-20241022", 0.8, 4.0, thinking=False),
    "claude-3-haiku": _row("claude-3-haiku-20240307", 0.25, 1.25, thinking=False),
}


def _aliases() -> dict[str, str]:
    """``claude-4.5-sonnet`` is also reachable as ``claude-sonnet-4.5`` and ``claude-sonnet-4-5``."""
    out: dict[str, str] = {}
    for model_id in ANTHROPIC_MODELS:
        _, version, family = model_id.split("-", 2)
        out[f"claude-{family}-{version}"] = model_id
        out[f"claude-{family}-{version.replace('.', '-')}"] = model_id
    return out


ANTHROPIC_ALIASES: dict[str, str] = _aliases()
