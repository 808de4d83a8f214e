"""Imports a first call needs right after joining Ray, done while the head is starting.

A process that starts the machine-wide head waits about three seconds for it with nothing
to do. Right after the join, its first call imports the caller and limiter actors and, on
its first remote call, Ray's serializer imports the packages it has add-ons for (pydantic,
starlette, pyarrow and numpy, when installed): about 0.1 s on the path to the first result
(measured 2026-12-05, on the 2-core machine). :func:`warm_while` does those imports while
the head starts instead, one at a time, and stops as soon as the head is up: a process
that finds the head already running does them where it always did.

    >>> warm_while(lambda: False)  # nothing pending: nothing imported
    0
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["warm_while"]


class _NoRegistry:
    """Stands in for Ray's serialization context: every registration is dropped."""

    def __getattr__(self, name: str) -> Callable[..., None]:
        return lambda *args, **kwargs: None


def _ray_serializer_addons() -> None:
    # Ray applies these add-ons to its real context on the first remote call; applied to a
    # stand-in, they import what they need and register nothing.
    from ray.util import serialization_addons

    serialization_addons.apply(_NoRegistry())


_STEPS: tuple[str | Callable[[], Any], ...] = (
    "deluge_ray.client._caller_pool",
    "deluge_ray.actors.provider_caller",
    "deluge_ray.actors.rate_limiter",
    _ray_serializer_addons,
)


def warm_while(pending: Callable[[], bool]) -> int:
    """Run the warm-up steps while ``pending()`` is true; return how many ran.

    A step that fails is skipped: the same import happens later, where it would anyway,
    and raises there if it must.
    """
    done = 0
    for step in _STEPS:
        if not pending():
            break
        with contextlib.suppress(Exception):
            if isinstance(step, str):
                importlib.import_module(step)
            else:
                step()
        done += 1
    return done
