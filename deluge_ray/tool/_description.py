"""What ``Tool.from_function`` writes into a description when the function says nothing,
and how it states the return type (``include_output_schema_in_description``).

Both follow lm-deluge 0.0.168, because models and prompts are tuned to its wording:
``"Call the <name> function"`` for an undocumented function, and ``"Returns: <type>"``
followed by one compact JSON line per model the return type refers to.
"""

from __future__ import annotations

import inspect
import json
import re
import typing
from collections.abc import Callable
from typing import Any

__all__ = ["default_description", "return_type_text", "returns_section"]

_UNION_NAMES = {"Union", "UnionType"}


def default_description(tool_name: str) -> str:
    """The description of a function that has no docstring."""
    return f"Call the {tool_name} function"


def return_type_text(hint: Any) -> str:
    """A short, readable spelling of a type hint: ``list[Item]``, ``str | None``.

    >>> return_type_text(dict[str, list[int]])
    'dict[str, list[int]]'
    """
    if hint is type(None):
        return "None"
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is not None and args:
        origin_name = getattr(origin, "__name__", None) or str(origin).replace("typing.", "")
        inner = [return_type_text(a) for a in args]
        if origin_name in _UNION_NAMES:
            return " | ".join(inner)
        return f"{origin_name}[{', '.join(inner)}]"
    if hasattr(hint, "__name__"):
        return hint.__name__
    # Forward references and other oddities: drop module qualifiers ("pkg.mod.Item").
    return re.sub(r"\b\w+\.", "", str(hint)).replace("typing_extensions.", "")


def returns_section(func: Callable[..., Any], output_schema: dict[str, Any] | None) -> str | None:
    """The text appended to the description, or ``None`` without a return annotation."""
    hint = inspect.signature(func).return_annotation
    if hint is inspect.Parameter.empty:
        return None
    if isinstance(hint, str):
        try:
            hint = typing.get_type_hints(func).get("return", hint)
        except Exception:  # an unresolved forward reference: print it as written
            pass
    lines = [f"Returns: {return_type_text(hint)}"]
    for def_name, schema in ((output_schema or {}).get("$defs") or {}).items():
        lines.append(f"{def_name}: {json.dumps(schema, separators=(',', ':'))}")
    return "\n\n".join(lines)
