"""minimax: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "minimax-m2.1": {
        "name": "MiniMax-M2.1",
        "api_spec": "anthropic",
        "api_key_env_var": "MINIMAX_API_KEY",
        "base_url": "https://api.minimax.io/anthropic/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
    "minimax-m2": {
        "name": "MiniMax-M2",
        "api_spec": "anthropic",
        "api_key_env_var": "MINIMAX_API_KEY",
        "base_url": "https://api.minimax.io/anthropic/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
}

ALIASES: dict[str, str] = {}
