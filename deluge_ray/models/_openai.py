"""OpenAI's models: wire names, public prices (USD per million tokens) and capabilities.

Each row is ``id -> fields``; ``_registry`` adds the provider, wire format, key variable
and base URL. Prices are OpenAI's list prices (standard tier).
"""

from __future__ import annotations

from typing import Any

_CHAT = {"supports_json": True, "supports_tools": True, "supports_images": True}
# Non-reasoning GPT models return token log-probabilities; reasoning models do not.
_GPT = {**_CHAT, "supports_logprobs": True, "supports_responses": True}
_REASONING = {**_CHAT, "reasoning_model": True, "supports_responses": True}


def _row(name: str, inp: float, cached: float, out: float, **flags: Any) -> dict[str, Any]:
    return {
        "name": name,
        "input_cost": inp,
        "cached_input_cost": cached,
        "output_cost": out,
        **flags,
    }


OPENAI_MODELS: dict[str, dict[str, Any]] = {
    "gpt-5.1": _row("gpt-5.1", 1.25, 0.125, 10.0, **_REASONING),
    "gpt-5": _row("gpt-5", 1.25, 0.125, 10.0, **_REASONING),
    "gpt-5-mini": _row("gpt-5-mini", 0.25, 0.025, 2.0, **_REASONING),
    "gpt-5-nano": _row("gpt-5-nano", 0.05, 0.005, 0.4, **_REASONING),
    "gpt-5-chat": _row("gpt-5-chat-latest", 1.25, 0.125, 10.0, **_GPT),
    "gpt-5-codex": _row("gpt-5-codex", 1.25, 0.125, 10.0, **_REASONING),
    "o3": _row("o3-2025-04-16", 2.0, 0.5, 8.0, **_REASONING),
    "o4-mini": _row("o4-mini-2025-04-16", 1.1, 0.275, 4.4, **_REASONING),
    "o3-mini": _row(
        "o3-mini-2025-01-31", 1.1, 0.55, 4.4, **{**_REASONING, "supports_images": False}
    ),
    "gpt-4.1": _row("gpt-4.1-2025-04-14", 2.0, 0.5, 8.0, **_GPT),
    "gpt-4.1-mini": _row("gpt-4.1-mini-2025-04-14", 0.4, 0.1, 1.6, **_GPT),
    "gpt-4.1-nano": _row("gpt-4.1-nano-2025-04-14", 0.1, 0.025, 0.4, **_GPT),
    "gpt-4o": _row("gpt-4o-2024-08-06", 2.5, 1.25, 10.0, **_GPT),
    "gpt-4o-mini": _row("gpt-4o-mini-2024-07-18", 0.15, 0.075, 0.6, **_GPT),
}

_EMBED = {
    "supports_json": False,
    "supports_tools": False,
    "supports_images": False,
    "is_embedding": True,
}

OPENAI_EMBEDDING_MODELS: dict[str, dict[str, Any]] = {
    "text-embedding-3-small": _row("text-embedding-3-small", 0.02, 0.0, 0.0, **_EMBED),
    "text-embedding-3-large": _row("text-embedding-3-large", 0.13, 0.0, 0.0, **_EMBED),
    "text-embedding-ada-002": _row("text-embedding-ada-002", 0.10, 0.0, 0.0, **_EMBED),
}
