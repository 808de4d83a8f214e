"""perceptron: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "perceptron-mk1": {
        "name": "perceptron-mk1",
        "api_spec": "openai",
        "api_key_env_var": "PERCEPTRON_API_KEY",
        "base_url": "https://api.perceptron.inc/v1",
        "input_cost": 0.15,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.5,
        "supports_json": True,
        "supports_images": True,
        "omit_default_sampling_params": True,
    },
    "isaac-0.2-2b-preview": {
        "name": "isaac-0.2-2b-preview",
        "api_spec": "openai",
        "api_key_env_var": "PERCEPTRON_API_KEY",
        "base_url": "https://api.perceptron.inc/v1",
        "input_cost": 0.15,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.25,
        "supports_json": True,
        "supports_images": True,
        "omit_default_sampling_params": True,
    },
    "isaac-0.2-1b": {
        "name": "isaac-0.2-1b",
        "api_spec": "openai",
        "api_key_env_var": "PERCEPTRON_API_KEY",
        "base_url": "https://api.perceptron.inc/v1",
        "input_cost": 0.15,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.25,
        "supports_json": True,
        "supports_images": True,
        "omit_default_sampling_params": True,
    },
    "isaac-0.1": {
        "name": "isaac-0.1",
        "api_spec": "openai",
        "api_key_env_var": "PERCEPTRON_API_KEY",
        "base_url": "https://api.perceptron.inc/v1",
        "input_cost": 0.15,
        "cached_input_cost": 0.0,
        "cache_write_cost": 0.0,
        "output_cost": 1.25,
        "supports_json": True,
        "supports_images": True,
        "omit_default_sampling_params": True,
    },
}

ALIASES: dict[str, str] = {}
