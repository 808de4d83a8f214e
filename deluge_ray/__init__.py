"""deluge_ray: the LM Deluge client API on Ray actors.

One rate limit shared by every process in a cluster, one cache shared by every job,
agent loops spread over many machines, and nothing lost when a worker dies.
"""

from __future__ import annotations

from .errors import (
    CacheError,
    ConfigurationError,
    DelugeError,
    MissingAPIKeyError,
    PromptError,
    ProviderError,
    RuntimeUnavailableError,
    ToolError,
    UnknownModelError,
)

__version__ = "0.1.0"

__all__ = [
    "CacheError",
    "ConfigurationError",
    "DelugeError",
    "MissingAPIKeyError",
    "PromptError",
    "ProviderError",
    "RuntimeUnavailableError",
    "ToolError",
    "UnknownModelError",
    "__version__",
]
