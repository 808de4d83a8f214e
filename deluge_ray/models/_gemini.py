"""Google's Gemini models (generateContent API): wire names, public prices, capabilities.

Prices are the standard-tier list prices for prompts up to 200k tokens, USD per million.
Gemini bills implicit cache reads at the cached rate and has no separate write charge.
The Pro models cannot switch thinking off: their smallest ``thinkingBudget`` is 128
(``min_budget``); the Flash models accept 0, which turns thinking off.
"""

from __future__ import annotations

from typing import Any


def _row(
    name: str,
    inp: float,
    cached: float,
    out: float,
    *,
    thinking: bool = True,
    min_budget: int = 0,
) -> dict[str, Any]:
    return {
        "name": name,
        "input_cost": inp,
        "cached_input_cost": cached,
        "output_cost": out,
        "supports_json": True,
        "supports_tools": True,
        "supports_images": True,
        "reasoning_model": thinking,
        "min_thinking_budget": min_budget,
    }


GEMINI_MODELS: dict[str, dict[str, Any]] = {
    "gemini-3-pro-preview": _row("gemini-3-pro-preview", 2.0, 0.2, 12.0, min_budget=128),
    "gemini-2.5-pro": _row("gemini-2.5-pro", 1.25, 0.125, 10.0, min_budget=128),
    "gemini-2.5-flash": _row("gemini-2.5-flash", 0.3, 0.03, 2.5),
    "gemini-2.5-flash-lite": _row("gemini-2.5-flash-lite", 0.1, 0.01, 0.4),
    "gemini-2.0-flash": _row("gemini-2.0-flash", 0.1, 0.025, 0.4, thinking=False),
    "gemini-2.0-flash-lite": _row("gemini-2.0-flash-lite", 0.075, 0.0, 0.3, thinking=False),
}
