"""fireworks: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "gpt-oss-20b-fireworks": {
        "name": "accounts/fireworks/models/gpt-oss-20b",
        "api_spec": "openai",
        "api_key_env_var": "FIREWORKS_API_KEY",
        "base_url": "https://api.fireworks.ai/inference/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
        "reasoning_model": True,
    },
    "gpt-oss-120b-fireworks": {
        "name": "accounts/fireworks/models/gpt-oss-120b",
        "api_spec": "openai",
        "api_key_env_var": "FIREWORKS_API_KEY",
        "base_url": "https://api.fireworks.ai/inference/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
        "reasoning_model": True,
    },
}

ALIASES: dict[str, str] = {}
