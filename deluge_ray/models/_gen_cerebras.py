"""cerebras: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "gpt-oss-120b-cerebras": {
        "name": "gpt-oss-120b",
        "api_spec": "openai",
        "api_key_env_var": "CEREBRAS_API_KEY",
        "base_url": "https://api.cerebras.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
        "reasoning_model": True,
    },
    "llama-3.1-8b-cerebras": {
        "name": "llama-3.1-8b",
        "api_spec": "openai",
        "api_key_env_var": "CEREBRAS_API_KEY",
        "base_url": "https://api.cerebras.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
    "llama-3.3-70b-cerebras": {
        "name": "llama-3.3-70b",
        "api_spec": "openai",
        "api_key_env_var": "CEREBRAS_API_KEY",
        "base_url": "https://api.cerebras.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
    "qwen-3-32b-cerebras": {
        "name": "qwen-3-32b",
        "api_spec": "openai",
        "api_key_env_var": "CEREBRAS_API_KEY",
        "base_url": "https://api.cerebras.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
    "qwen-3-235b-instruct-cerebras": {
        "name": "qwen-3-235b-a22b-instruct-2507",
        "api_spec": "openai",
        "api_key_env_var": "CEREBRAS_API_KEY",
        "base_url": "https://api.cerebras.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
    "glm-4.7-cerebras": {
        "name": "zai-glm-4.7",
        "api_spec": "openai",
        "api_key_env_var": "CEREBRAS_API_KEY",
        "base_url": "https://api.cerebras.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": False,
        "supports_images": False,
    },
}

ALIASES: dict[str, str] = {}
