"""Small helpers shared by the prefab managers: result envelopes, Tool construction, and
pickling of managers that guard their state with a lock."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .. import Tool


class PicklesWithLock:
    """For managers holding ``self._lock``: tools travel to Ray actors by pickle, and a
    lock cannot, so the copy gets a fresh one on arrival."""

    _lock: threading.Lock

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


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
    definitions: dict[str, Any] | None = None,
) -> Tool:
    """Build a :class:`deluge_ray.tool.Tool`; imported late to avoid an import cycle."""
    from .. import Tool

    return Tool(
        name=name,
        description=description,
        parameters=parameters,
        required=required,
        run=run,
        definitions=definitions,
    )
