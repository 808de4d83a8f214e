"""kimi: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "kimi-k2.6": {
        "name": "kimi-k2.6",
        "api_spec": "anthropic",
        "api_key_env_var": "MOONSHOT_API_KEY",
        "base_url": "https://api.moonshot.ai/anthropic/v1",
        "input_cost": 0.95,
        "cached_input_cost": 0.16,
        "cache_write_cost": 0.0,
        "output_cost": 4.0,
        "supports_json": True,
        "supports_images": True,
        "reasoning_model": True,
    },
    "kimi-k2.5": {
        "name": "kimi-k2.5",
        "api_spec": "anthropic",
        "api_key_env_var": "MOONSHOT_API_KEY",
        "base_url": "https://api.moonshot.ai/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.1,
        "cache_write_cost": 0.0,
        "output_cost": 3.0,
        "supports_json": True,
        "supports_images": False,
    },
    "kimi-k2": {
        "name": "kimi-k2-0905-preview",
        "api_spec": "anthropic",
        "api_key_env_var": "MOONSHOT_API_KEY",
        "base_url": "https://api.moonshot.ai/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.15,
        "cache_write_cost": 0.0,
        "output_cost": 2.5,
        "supports_json": True,
        "supports_images": False,
    },
    "kimi-k2-turbo": {
        "name": "kimi-k2-turbo-preview",
        "api_spec": "anthropic",
        "api_key_env_var": "MOONSHOT_API_KEY",
        "base_url": "https://api.moonshot.ai/anthropic/v1",
        "input_cost": 1.15,
        "cached_input_cost": 0.15,
        "cache_write_cost": 0.0,
        "output_cost": 8.0,
        "supports_json": True,
        "supports_images": False,
    },
    "kimi-k2-thinking": {
        "name": "kimi-k2-thinking",
        "api_spec": "anthropic",
        "api_key_env_var": "MOONSHOT_API_KEY",
        "base_url": "https://api.moonshot.ai/anthropic/v1",
        "input_cost": 0.6,
        "cached_input_cost": 0.15,
        "cache_write_cost": 0.0,
        "output_cost": 2.5,
        "supports_json": True,
        "supports_images": False,
        "reasoning_model": True,
    },
    "kimi-k2-thinking-turbo": {
        "name": "kimi-k2-thinking-turbo",
        "api_spec": "anthropic",
        "api_key_env_var": "MOONSHOT_API_KEY",
        "base_url": "https://api.moonshot.ai/anthropic/v1",
        "input_cost": 1.15,
        "cached_input_cost": 0.15,
        "cache_write_cost": 0.0,
        "output_cost": 8.0,
        "supports_json": True,
        "supports_images": False,
        "reasoning_model": True,
    },
}

ALIASES: dict[str, str] = {}
