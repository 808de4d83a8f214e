"""Public names a package loads on first use (PEP 562), for the packages that need it.

A package lists where each of its public names lives (``{"LLMClient": "._client"}``) and
takes the module-level ``__getattr__`` and ``__dir__`` this builds. Used by the root
package (every Ray worker that hosts an actor imports it first) and by ``deluge_ray.client``
(the machine-wide head's own processes live there and need none of the client).

    >>> __getattr__, __dir__ = lazy_names(__name__, {"LLMClient": "._client"}, globals())
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    package: str,
    homes: Mapping[str, str],
    namespace: dict[str, Any],
    *,
    submodules: bool = False,
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``(__getattr__, __dir__)`` for ``package``, whose globals are ``namespace``.

    A name in ``homes`` is imported from its module on first use and kept in
    ``namespace`` (later lookups skip ``__getattr__``). With ``submodules``, any other name
    is tried as a subpackage (``deluge_ray.client``); else it is an ``AttributeError``.
    """

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            if submodules:
                try:
                    return importlib.import_module(f".{name}", package)
                except ModuleNotFoundError as exc:
                    if exc.name != f"{package}.{name}":
                        raise
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home, package), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(namespace.get("__all__", ())))

    return __getattr__, __dir__
