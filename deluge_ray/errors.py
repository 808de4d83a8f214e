"""The exception hierarchy of deluge_ray.

Every error the library raises on purpose derives from :class:`DelugeError`, so a
caller can catch the whole family with one ``except``. The subclasses say *where*
the problem is, and their messages say *what to do*:

    DelugeError
    ├── ConfigurationError        bad arguments to a constructor or method
    │   ├── UnknownModelError     a model name the registry does not know
    │   └── MissingAPIKeyError    the environment variable holding a key is unset
    ├── PromptError               a prompt, message, image or file that cannot be used
    ├── ToolError                 a tool definition or tool call that cannot be used
    ├── ProviderError             a provider answered with an error we cannot retry
    ├── CacheError                a cache backend that cannot be opened or written
    └── RuntimeUnavailableError   Ray or an actor the client needs is not reachable

Errors that are also ``ValueError``/``TypeError``/``ImportError`` in spirit inherit
from those builtins too, so code written against lm-deluge that catches
``ValueError`` keeps working.
"""

from __future__ import annotations

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
]


class DelugeError(Exception):
    """Base class of every error deluge_ray raises on purpose."""


class ConfigurationError(DelugeError, ValueError):
    """An argument to a constructor or method is invalid; the message names it."""


class UnknownModelError(ConfigurationError, KeyError):
    """A model name is not in the registry; the message suggests the closest names."""

    def __init__(self, name: str, suggestions: list[str] | None = None) -> None:
        self.name = name
        self.suggestions = list(suggestions or [])
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"Unknown model {name!r}.{hint} "
            "Register custom or OpenAI-compatible endpoints with deluge_ray.register_model(...)."
        )

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return str(self.args[0])


class MissingAPIKeyError(ConfigurationError):
    """The environment variable that should hold a provider's API key is not set."""

    def __init__(self, env_var: str, model: str | None = None) -> None:
        self.env_var = env_var
        self.model = model
        who = f" (needed by model {model!r})" if model else ""
        super().__init__(
            f"Environment variable {env_var} is not set{who}. "
            f"Export it in the process that creates the LLMClient, e.g. `export {env_var}=...`."
        )


class PromptError(DelugeError, ValueError):
    """A prompt, message, image or file cannot be turned into a provider request."""


class ToolError(DelugeError, ValueError):
    """A tool definition or a tool call is invalid."""


class ProviderError(DelugeError):
    """A provider answered with an error that retrying will not fix."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        self.status_code = status_code
        super().__init__(message)


class CacheError(DelugeError):
    """A cache backend cannot be opened, read or written."""


class RuntimeUnavailableError(DelugeError, RuntimeError):
    """Ray, or an actor the client depends on, cannot be reached."""
