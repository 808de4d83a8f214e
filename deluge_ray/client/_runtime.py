"""Ray lifecycle for the driver: the one place that decides how Ray is joined or started.

The rule (issue 4, item 8): if this process is already connected (``ray.is_initialized()``)
use that; if ``address=`` was given, or ``RAY_ADDRESS`` is set, join that cluster; otherwise
join the machine-wide local Ray head, started first if none runs (``_local_head``; issue 15,
item 1), or, with ``DELUGE_RAY_LOCAL=process``, start a Ray of this process alone. Either
way: no dashboard, no usage-stats prompt and no worker log forwarding, so a plain script or
a notebook cell stays quiet (see ``_ray_output``).

Three rules of issue 15:

- ``ray.init`` always runs on a thread that lives as long as the process: the main thread,
  or else one parked daemon thread. Linux ties the ``gcs_server`` and ``raylet`` that
  ``ray.init`` starts to the *thread* that forked them (parent-death signal), so starting
  Ray on the short-lived thread that serves a notebook's ``process_prompts_sync`` killed
  them when that call returned, and the kernel a minute later.
- A join leaves ``RAY_AUTH_MODE`` alone (token-authenticated clusters join exactly as
  with plain Ray); only an embedded Ray, which this process owns, defaults it to disabled.
- An explicit address is checked first (``_cluster_probe``), so an unreachable cluster or a
  missing token fails in seconds with one line instead of minutes of retries.

    >>> from deluge_ray.client._runtime import ensure_ray
    >>> ray = ensure_ray()          # doctest: +SKIP
    >>> ray.is_initialized()        # doctest: +SKIP
    True
"""

from __future__ import annotations

import concurrent.futures
import os
import queue
import sys
import threading
import warnings
from collections.abc import Callable
from types import ModuleType
from typing import Any, TypeVar

from .._constants import RAY_NAMESPACE
from ..errors import RuntimeUnavailableError
from . import _local_head
from ._cluster_probe import AUTH_HELP, check_cluster_address
from ._head_settings import LOCAL_MODE_ENV, local_mode
from ._head_state import HeadRecord
from ._local_head import ensure_local_head
from ._node_start import quick_node_start
from ._prewarm import warm_while
from ._ray_output import (
    debug_enabled,
    quiet_ray_environment,
    quiet_ray_logger,
    route_ray_error_feed,
)

__all__ = ["CONNECT_TIMEOUT_ENV", "connect_timeout", "ensure_ray", "run_on_lifetime_thread"]

T = TypeVar("T")

#: Seconds an explicit cluster address has to accept a connection (default 10).
CONNECT_TIMEOUT_ENV = "DELUGE_RAY_CONNECT_TIMEOUT"
_DEFAULT_CONNECT_TIMEOUT_S = 10.0

# Two clients built at the same moment on two threads must not both call ray.init().
_init_lock = threading.Lock()


class _LifetimeThread:
    """One daemon thread, parked for the life of the process, that runs what it is given."""

    def __init__(self) -> None:
        self._work: queue.SimpleQueue[tuple[Callable[[], Any], concurrent.futures.Future]] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._serve, name="deluge-ray-runtime", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            fn, future = self._work.get()
            if future.set_running_or_notify_cancel():
                try:
                    future.set_result(fn())
                except BaseException as exc:  # handed to the waiting caller, never lost
                    future.set_exception(exc)

    def run(self, fn: Callable[[], T]) -> T:
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._work.put((fn, future))
        return future.result()


_lifetime_thread: _LifetimeThread | None = None
_lifetime_lock = threading.Lock()


def run_on_lifetime_thread(fn: Callable[[], T]) -> T:
    """Run ``fn()`` on a thread that lives as long as the process; return its result.

    From the main thread ``fn`` runs right here; from any other thread it runs on the
    one parked ``deluge-ray-runtime`` thread (started on first use).
    """
    global _lifetime_thread
    if threading.current_thread() is threading.main_thread():
        return fn()
    with _lifetime_lock:
        if _lifetime_thread is None:
            _lifetime_thread = _LifetimeThread()
    return _lifetime_thread.run(fn)


def connect_timeout() -> float:
    """``DELUGE_RAY_CONNECT_TIMEOUT`` in seconds (default 10); a bad value is an error."""
    raw = os.environ.get(CONNECT_TIMEOUT_ENV, "").strip()
    if not raw:
        return _DEFAULT_CONNECT_TIMEOUT_S
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not value > 0:
        raise RuntimeUnavailableError(
            f"{CONNECT_TIMEOUT_ENV}={raw!r} is not a positive number of seconds; "
            "set it to e.g. 10, or unset it."
        )
    return value


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _is_auth_failure(exc: BaseException) -> bool:
    from ray.exceptions import AuthenticationError

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AuthenticationError) or "UNAUTHENTICATED" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _join(ray: ModuleType, target: str, *, probe: bool = True) -> None:
    if probe:
        check_cluster_address(target, timeout=connect_timeout())
    try:
        ray.init(
            address=target,
            namespace=RAY_NAMESPACE,
            log_to_driver=debug_enabled(),
            ignore_reinit_error=True,
            # Configuring would reset the "ray" logger to INFO inside init (see _ray_output).
            configure_logging=debug_enabled(),
        )
    except Exception as exc:
        if _is_auth_failure(exc):
            raise RuntimeUnavailableError(
                f"Could not join the Ray cluster at {target!r}: it refused this process's "
                f"authentication; {AUTH_HELP}."
            ) from exc
        hint = ""
        if os.environ.get("RAY_AUTH_MODE", "").lower() != "token":
            hint = f"; if it was made by `ray start` (token authentication), {AUTH_HELP}"
        raise RuntimeUnavailableError(
            f"Could not join the Ray cluster at {target!r}: {_first_line(exc)}. Check that "
            f"the cluster is running (`ray status`){hint}."
        ) from exc


def _head_in_background() -> concurrent.futures.Future[tuple[HeadRecord, bool]] | None:
    """Find or start the machine-wide head on a helper thread while this process imports
    Ray (about a second), so that a cold start pays for the slower of the two, not both.
    The future holds ``(record, started)``; ``None`` if this process is already
    connected. (The head is a detached process: the thread that starts it may end.)"""
    loaded = sys.modules.get("ray")
    if loaded is not None and getattr(loaded, "is_initialized", lambda: False)():
        return None
    future: concurrent.futures.Future[tuple[HeadRecord, bool]] = concurrent.futures.Future()

    def find_or_start() -> None:
        try:
            future.set_result(_local_head.find_or_start_local_head())
        except BaseException as exc:  # handed to the joining thread, never lost
            future.set_exception(exc)

    threading.Thread(target=find_or_start, name="deluge-ray-local-head", daemon=True).start()
    return future


def _join_local_head(ray: ModuleType, head: concurrent.futures.Future | None) -> None:
    if head is not None:
        # Waiting for a head that is starting: do the imports the first call needs now.
        warm_while(lambda: not head.done())
    record, started = head.result() if head is not None else (ensure_local_head(), False)
    # Compared resolved: `deluge-ray up` runs as .../bin/python3.11, a script as .../bin/python.
    if os.path.realpath(record.python) != os.path.realpath(sys.executable):
        # Actors run the head's interpreter and packages, not this process's.
        warnings.warn(
            f"this machine's local Ray head runs {record.python}, this process "
            f"{sys.executable}: deluge_ray's actors will run the head's Python and packages. "
            f"Run `deluge-ray down` to start it again from this Python, or set "
            f"{LOCAL_MODE_ENV}=process.",
            stacklevel=1,
        )
    try:
        # A head this process just started is up (it wrote its address) and is ours: the
        # probe (about 20 ms) would only delay the first call.
        _join(ray, record.address, probe=not started)
    except RuntimeUnavailableError as exc:
        raise RuntimeUnavailableError(
            f"Could not join this machine's local Ray head at {record.address!r} "
            f"({exc}). Run `deluge-ray down` and try again, or set "
            f"{LOCAL_MODE_ENV}=process to use a Ray of this process alone."
        ) from exc


def _start_embedded(ray: ModuleType) -> None:
    try:
        with quick_node_start():
            _init_embedded(ray)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise RuntimeUnavailableError(
            f"Could not start a local Ray instance: {_first_line(exc)}. "
            "Set DELUGE_RAY_DEBUG=1 to see Ray's own output."
        ) from exc


def _init_embedded(ray: ModuleType) -> None:
    ray.init(
        # "local": always a new Ray of this process, never one found on the machine.
        address="local",
        namespace=RAY_NAMESPACE,
        include_dashboard=False,
        log_to_driver=debug_enabled(),
        ignore_reinit_error=True,
        configure_logging=debug_enabled(),
    )


def ensure_ray(address: str | None = None) -> ModuleType:
    """Return the ``ray`` module with this process connected to a cluster.

    ``address`` (or ``RAY_ADDRESS``) joins an existing cluster, e.g. ``"auto"``,
    ``"10.0.0.5:6379"`` or ``"ray://head:10001"``; without either this machine's shared
    local Ray head is joined (started first if none runs), or with
    ``DELUGE_RAY_LOCAL=process`` a Ray of this process alone is started. Raises
    :class:`RuntimeUnavailableError` (a one-line message saying what to do) when the
    cluster cannot be reached or refuses this process.
    """
    quiet_ray_environment()
    target = address or os.environ.get("RAY_ADDRESS") or None
    if not target:
        # An embedded Ray belongs to this process: no token file in ~/.ray, no auth banner.
        # Set before Ray is imported, which reads it. (If the user started Ray themselves
        # with token auth, Ray has already set this variable and it is left as it is.)
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    head = _head_in_background() if not target and local_mode() == "machine" else None
    import ray

    with _init_lock:
        if ray.is_initialized():
            # The user's own ray.init(): their settings stand, but the (raylet) feed about
            # faults of our actors that deluge_ray handles still stays off the terminal.
            route_ray_error_feed()
            return ray
        with quiet_ray_logger():
            if target:
                run_on_lifetime_thread(lambda: _join(ray, target))
            elif local_mode() == "machine":
                run_on_lifetime_thread(lambda: _join_local_head(ray, head))
            else:
                run_on_lifetime_thread(lambda: _start_embedded(ray))
        route_ray_error_feed()
    return ray
