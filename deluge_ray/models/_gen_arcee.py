"""arcee: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "trinity-large-thinking": {
        "name": "trinity-large-thinking",
        "api_spec": "openai",
        "api_key_env_var": "ARCEE_API_KEY",
        "base_url": "https://api.arcee.ai/api/v1",
        "input_cost": 0.25,
        "cached_input_cost": 0.25,
        "cache_write_cost": 0.0,
        "output_cost": 0.9,
        "supports_json": True,
        "supports_images": False,
        "reasoning_model": True,
    },
    "trinity-large-preview": {
        "name": "trinity-large-preview",
        "api_spec": "openai",
        "api_key_env_var": "ARCEE_API_KEY",
        "base_url": "https://api.arcee.ai/api/v1",
        "input_cost": 0.25,
        "cached_input_cost": 0.25,
        "cache_write_cost": 0.0,
        "output_cost": 1.0,
        "supports_json": True,
        "supports_images": False,
        "reasoning_model": True,
    },
    "trinity-mini": {
        "name": "trinity-mini",
        "api_spec": "openai",
        "api_key_env_var": "ARCEE_API_KEY",
        "base_url": "https://api.arcee.ai/api/v1",
        "input_cost": 0.045,
        "cached_input_cost": 0.045,
        "cache_write_cost": 0.0,
        "output_cost": 0.15,
        "supports_json": True,
        "supports_images": False,
        "reasoning_model": True,
    },
}

ALIASES: dict[str, str] = {}
