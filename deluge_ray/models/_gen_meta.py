"""meta: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "muse-spark-1.1": {
        "name": "muse-spark-1.1",
        "api_spec": "openai",
        "api_key_env_var": "META_API_KEY",
        "base_url": "https://api.meta.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": True,
        "supports_images": True,
        "supports_responses": True,
        "reasoning_model": True,
        "supports_minimal_reasoning": True,
        "supports_xhigh": True,
    },
    "muse-spark-1.2": {
        "name": "muse-spark-1.2",
        "api_spec": "openai",
        "api_key_env_var": "META_API_KEY",
        "base_url": "https://api.meta.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": True,
        "supports_images": True,
        "supports_responses": True,
        "reasoning_model": True,
        "supports_minimal_reasoning": True,
        "supports_xhigh": True,
    },
    "muse-spark-1.2-contributor": {
        "name": "muse-spark-1.2-contributor",
        "api_spec": "openai",
        "api_key_env_var": "META_API_KEY",
        "base_url": "https://api.meta.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": True,
        "supports_images": True,
        "supports_responses": True,
        "reasoning_model": True,
        "supports_minimal_reasoning": True,
        "supports_xhigh": True,
    },
    "muse-spark-1.3": {
        "name": "muse-spark-1.3",
        "api_spec": "openai",
        "api_key_env_var": "META_API_KEY",
        "base_url": "https://api.meta.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": True,
        "supports_images": True,
        "supports_responses": True,
        "reasoning_model": True,
        "supports_minimal_reasoning": True,
        "supports_xhigh": True,
    },
    "muse-spark-1.3-contributor": {
        "name": "muse-spark-1.3-contributor",
        "api_spec": "openai",
        "api_key_env_var": "META_API_KEY",
        "base_url": "https://api.meta.ai/v1",
        "input_cost": 0.0,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 0.0,
        "supports_json": True,
        "supports_images": True,
        "supports_responses": True,
        "reasoning_model": True,
        "supports_minimal_reasoning": True,
        "supports_xhigh": True,
    },
}

ALIASES: dict[str, str] = {}
