"""Ray lifecycle for the driver: join a running cluster, or start a quiet local one.

The rule (issue 4, item 8): if this process is already connected (``ray.is_initialized()``)
use that; if ``address=`` was given, or ``RAY_ADDRESS`` is set, join that cluster; otherwise
start an embedded single-machine Ray with no dashboard, no usage-stats prompt and no worker
log forwarding, so a plain script or a notebook cell stays quiet.

    >>> from deluge_ray.client._runtime import ensure_ray
    >>> ray = ensure_ray()          # doctest: +SKIP
    >>> ray.is_initialized()        # doctest: +SKIP
    True
"""

from __future__ import annotations

import os
import threading
from types import ModuleType

from .._constants import RAY_NAMESPACE
from ..errors import RuntimeUnavailableError

__all__ = ["ensure_ray"]

# Two clients built at the same moment on two threads must not both call ray.init().
_init_lock = threading.Lock()


def _quiet_defaults() -> None:
    # Set only if unset: a user who opted in to usage stats or token auth keeps their choice.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")


def ensure_ray(address: str | None = None) -> ModuleType:
    """Return the ``ray`` module with this process connected to a cluster.

    ``address`` (or ``RAY_ADDRESS``) joins an existing cluster, e.g. ``"auto"`` or
    ``"ray://head:10001"``; without either an embedded local Ray is started.
    Raises :class:`RuntimeUnavailableError` when the named cluster cannot be reached.
    """
    _quiet_defaults()
    import ray

    with _init_lock:
        if ray.is_initialized():
            return ray
        target = address or os.environ.get("RAY_ADDRESS") or None
        try:
            if target:
                ray.init(
                    address=target,
                    namespace=RAY_NAMESPACE,
                    log_to_driver=False,
                    ignore_reinit_error=True,
                )
            else:
                ray.init(
                    namespace=RAY_NAMESPACE,
                    include_dashboard=False,
                    log_to_driver=False,
                    ignore_reinit_error=True,
                    configure_logging=False,
                )
        except (ConnectionError, RuntimeError, ValueError) as exc:
            where = f"the Ray cluster at {target!r}" if target else "a local Ray instance"
            raise RuntimeUnavailableError(
                f"Could not connect to {where}: {exc}. Check that the cluster is running "
                "(`ray status`), or unset RAY_ADDRESS to start a local Ray."
            ) from exc
    return ray
