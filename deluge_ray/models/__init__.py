"""The model registry: names users write, mapped to wire names, endpoints, prices, abilities.

>>> from deluge_ray.models import get_model
>>> m = get_model("claude-4.5-sonnet")
>>> (m.name, m.api_spec, m.api_key_env_var)
('claude-sonnet-4-5-20250929', 'anthropic', 'ANTHROPIC_API_KEY')
"""

from __future__ import annotations

from ._effort import EFFORT_SUFFIXES, split_effort_suffix, split_effort_suffixes
from ._find import find_models
from ._model import APIModel
from ._registry import API_SPECS, get_model, register_model, registry

__all__ = [
    "API_SPECS",
    "EFFORT_SUFFIXES",
    "APIModel",
    "find_models",
    "get_model",
    "register_model",
    "registry",
    "split_effort_suffix",
    "split_effort_suffixes",
]
