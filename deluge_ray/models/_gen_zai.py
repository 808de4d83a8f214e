"""zai: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "glm-4.7-flash": {
        "name": "glm-4.7-flash",
        "api_spec": "anthropic",
        "api_key_env_var": "ZAI_API_KEY",
        "base_url": "https://api.z.ai/api/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.6,
        "cache_write_cost": 0.6,
        "output_cost": 2.2,
        "supports_json": True,
        "supports_images": False,
    },
    "glm-4.7": {
        "name": "glm-4.7",
        "api_spec": "anthropic",
        "api_key_env_var": "ZAI_API_KEY",
        "base_url": "https://api.z.ai/api/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.6,
        "cache_write_cost": 0.6,
        "output_cost": 2.2,
        "supports_json": True,
        "supports_images": False,
    },
    "glm-4.6": {
        "name": "glm-4.6",
        "api_spec": "anthropic",
        "api_key_env_var": "ZAI_API_KEY",
        "base_url": "https://api.z.ai/api/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.6,
        "cache_write_cost": 0.6,
        "output_cost": 2.2,
        "supports_json": True,
        "supports_images": False,
    },
    "glm-4.5": {
        "name": "glm-4.5",
        "api_spec": "anthropic",
        "api_key_env_var": "ZAI_API_KEY",
        "base_url": "https://api.z.ai/api/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.6,
        "cache_write_cost": 0.6,
        "output_cost": 2.2,
        "supports_json": True,
        "supports_images": False,
    },
    "glm-4.5-air": {
        "name": "glm-4.5-air",
        "api_spec": "anthropic",
        "api_key_env_var": "ZAI_API_KEY",
        "base_url": "https://api.z.ai/api/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.6,
        "cache_write_cost": 0.6,
        "output_cost": 2.2,
        "supports_json": True,
        "supports_images": False,
    },
}

ALIASES: dict[str, str] = {}
