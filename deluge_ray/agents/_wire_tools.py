"""Request tools whose provider schemas are built once per swarm, not once per request.

Building a tool's wire schema (closing it for strict mode, deep-copying definitions) cost
about 0.2 ms per model call inside a SubAgent, the same every time: a swarm's tools never
change. :class:`SchemaOnce` wraps one request tool and remembers what each ``for_*``
method returned for each set of arguments. Request builders only call those methods (they
dispatch on ``for_openai_completions`` / ``for_anthropic`` being present, never on the
class), and each builder puts the returned dict into a new request body that is
serialised, never edited, so sharing one dict between requests is safe.

    >>> from deluge_ray.tool import Tool
    >>> def echo(text: str) -> str:
    ...     '''Say it back.'''
    ...     return text
    >>> once = SchemaOnce(Tool.from_function(echo))
    >>> once.for_openai_completions(strict=True) is once.for_openai_completions(strict=True)
    True
    >>> once.name
    'echo'
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["SchemaOnce", "schemas_once"]

_SCHEMA_METHODS = frozenset(
    {"for_openai_completions", "for_openai", "for_openai_responses", "for_anthropic", "for_gemini"}
)


class SchemaOnce:
    """One request tool; its ``for_*`` schemas are computed on first use and kept."""

    def __init__(self, tool: Any) -> None:
        self.tool = tool
        self._schemas: dict[tuple, Any] = {}

    def __getattr__(self, name: str) -> Any:
        # Only reached for attributes this wrapper lacks: everything but the schemas is
        # the tool's own. (Its own two fields are missing only while unpickling.)
        if name in ("tool", "_schemas"):
            raise AttributeError(name)
        target = getattr(self.tool, name)
        if name not in _SCHEMA_METHODS:
            return target

        def remembered(*args: Any, **kwargs: Any) -> Any:
            key = (name, args, tuple(sorted(kwargs.items())))
            try:
                return self._schemas[key]
            except KeyError:
                schema = self._schemas[key] = target(*args, **kwargs)
                return schema
            except TypeError:  # an unhashable argument: nothing to remember it by
                return target(*args, **kwargs)

        return remembered

    def __getstate__(self) -> dict[str, Any]:
        return {"tool": self.tool}  # schemas are rebuilt where the copy lands

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.tool = state["tool"]
        self._schemas = {}


def schemas_once(tools: Sequence[Any] | None) -> tuple[Any, ...] | None:
    """``tools`` with every object tool wrapped in :class:`SchemaOnce` (provider-native
    dicts pass through as they are)."""
    if not tools:
        return None
    return tuple(t if isinstance(t, dict) else SchemaOnce(t) for t in tools)
