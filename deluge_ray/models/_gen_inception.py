"""inception: models of lm-deluge 0.0.168's registry (generated; do not edit).

Written by tests/compat/generate_registry.py from the 0.0.168 wheel. Prices are USD
per million tokens. ``ALIASES`` maps another name to its model id.
"""

from __future__ import annotations

from typing import Any

MODELS: dict[str, dict[str, Any]] = {
    "mercury-2": {
        "name": "mercury-2",
        "api_spec": "openai",
        "api_key_env_var": "INCEPTION_API_KEY",
        "base_url": "https://api.inceptionlabs.ai/v1",
        "input_cost": 0.25,
        "cached_input_cost": 0.025,
        "cache_write_cost": 0.0,
        "output_cost": 0.75,
        "supports_json": True,
        "supports_images": False,
        "reasoning_model": True,
    }
}

ALIASES: dict[str, str] = {}
