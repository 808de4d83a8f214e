"""cohere: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "aya-expanse-8b": {
        "name": "c4ai-aya-expanse-8b",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": False,
    },
    "aya-expanse-32b": {
        "name": "c4ai-aya-expanse-32b",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": False,
    },
    "aya-vision-8b": {
        "name": "c4ai-aya-vision-8b",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": True,
    },
    "aya-vision-32b": {
        "name": "c4ai-aya-vision-32b",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": True,
    },
    "command-a": {
        "name": "command-a-03-2025",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": False,
    },
    "command-r-cohere": {
        "name": "command-r7b-12-2024",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": False,
    },
    "command-r": {
        "name": "command-r-08-2024",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 0.5,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": False,
        "supports_images": False,
    },
    "command-r-plus": {
        "name": "command-r-plus-04-2024",
        "api_spec": "openai",
        "api_key_env_var": "COHERE_API_KEY",
        "base_url": "https://api.cohere.ai/compatibility/v1",
        "input_cost": 3.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 15.0,
        "supports_json": False,
        "supports_images": False,
    },
}

ALIASES: dict[str, str] = {}
