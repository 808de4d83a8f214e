"""Small helpers shared by the prefab managers: result envelopes and Tool construction."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .. import Tool


def ok(result: Any) -> str:
    """The JSON envelope of a successful tool call: ``{"ok": true, "result": ...}``."""
    return json.dumps({"ok": True, "result": result}, indent=2, default=str)


def fail(exc: BaseException) -> str:
    """The JSON envelope of a failed tool call, with a message written for the model."""
    message = str(exc)
    # KeyError wraps its message in quotes; OSError subclasses carry it in args.
    if isinstance(exc, KeyError) and exc.args:
        message = str(exc.args[0])
    return json.dumps(
        {"ok": False, "error": type(exc).__name__, "message": message}, indent=2, default=str
    )


def make_tool(
    name: str,
    description: str,
    parameters: dict[str, Any],
    required: list[str],
    run: Callable[..., Any],
) -> Tool:
    """Build a :class:`deluge_ray.tool.Tool`; imported late to avoid an import cycle."""
    from .. import Tool

    return Tool(
        name=name, description=description, parameters=parameters, required=required, run=run
    )
