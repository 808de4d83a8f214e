"""What of Ray's own output reaches the user's terminal: by default nothing of its internals.

Ray prints, on the driver's terminal, messages about faults deluge_ray already handles: its
error feed as ``(raylet) ...`` lines (a worker died, an actor restarted), "Unhandled error"
tracebacks for the result refs of a killed caller, and the core worker's warnings (a
``RateLimiter.lease`` call retried while the limiter restarts). deluge_ray resends the
work, releases the dead caller's slots and reports what the user must act on itself, so by
default these are kept off the terminal: the error feed goes to the ``deluge_ray.ray``
logger at DEBUG level, unhandled-error reports are switched off through Ray's own
environment variable, and Ray's INFO lines around ``ray.init`` are not shown.

``DELUGE_RAY_DEBUG=1`` (set before the first client runs) shows everything, as plain Ray
would, and also forwards the actors' own output (``log_to_driver``).

    >>> quiet_ray_environment()        # doctest: +SKIP  (before ray.init)
    >>> route_ray_error_feed()         # doctest: +SKIP  (after it)
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

__all__ = [
    "DEBUG_ENV",
    "debug_enabled",
    "quiet_ray_environment",
    "quiet_ray_logger",
    "route_ray_error_feed",
]

DEBUG_ENV = "DELUGE_RAY_DEBUG"

log = logging.getLogger("deluge_ray.ray")


def debug_enabled() -> bool:
    """Whether ``DELUGE_RAY_DEBUG`` asks for all of Ray's output."""
    return os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def quiet_ray_environment() -> None:
    """Before ``ray.init``: Ray's settings for a quiet driver (only those the user left unset)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if debug_enabled():
        return
    # Unretrieved errors of refs whose work deluge_ray resent elsewhere (a killed caller).
    # (RAY_BACKEND_LOG_LEVEL is not used: setting it makes Ray print a line saying so.)
    os.environ.setdefault("RAY_IGNORE_UNHANDLED_ERRORS", "1")


@contextlib.contextmanager
def quiet_ray_logger() -> Iterator[None]:
    """Around ``ray.init``: Ray's INFO lines ("Connecting to existing Ray cluster at ...",
    "Started a local Ray instance") stay off the terminal; its warnings still show."""
    ray_logger = logging.getLogger("ray")
    before = ray_logger.level
    if not debug_enabled() and before < logging.WARNING:
        ray_logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        ray_logger.setLevel(before)


def route_ray_error_feed() -> None:
    """After ``ray.init``: send the driver's ``(raylet)`` error feed to the debug logger.

    Ray prints that feed through one module-level function of ``ray._private.worker``;
    there is no public switch, so it is wrapped (once). If a Ray release renames it, the
    feed simply prints as before.
    """
    if debug_enabled():
        return
    try:
        import ray._private.worker as ray_worker
    except ImportError:
        return
    original = getattr(ray_worker, "print_to_stdstream", None)
    if original is None or getattr(original, "_deluge_ray_routed", False):
        return

    def print_or_log(data: dict[str, Any], *args: Any, **kwargs: Any) -> None:
        if data.get("pid") == "raylet":
            for line in data.get("lines", ()):
                log.debug("(raylet) %s", line)
            return
        original(data, *args, **kwargs)

    print_or_log._deluge_ray_routed = True  # type: ignore[attr-defined]
    ray_worker.print_to_stdstream = print_or_log
