"""The settings of the machine-wide local Ray head, read from the environment.

- ``DELUGE_RAY_LOCAL``: ``machine`` (the default) shares one local Ray head among every
  deluge_ray process on this machine; ``process`` gives each process a private Ray that
  ends with it (the behaviour before the head existed).
- ``DELUGE_RAY_STATE_DIR``: where the head's record, lock and logs live (default
  ``$XDG_CACHE_HOME/deluge_ray/head``, else ``~/.cache/deluge_ray/head``). One state
  directory, one head: tests point it into a temporary directory to get a head of their own.
- ``DELUGE_RAY_HEAD_IDLE_TIMEOUT``: seconds the head stays up with no driver connected
  (default 600); ``0`` or ``never`` keeps it until ``deluge-ray down``.

Ray's own files (sessions, sockets, logs) go to a short directory under ``RAY_TMPDIR``
(else the system temp dir) derived from the state directory: Ray's unix socket paths are
length-limited, and a directory of our own keeps a plain ``ray.init()`` elsewhere on the
machine from finding (and joining) this head through Ray's ``ray_current_cluster`` file.

    >>> os.environ.get(LOCAL_MODE_ENV, "machine") in LOCAL_MODES
    True
"""

from __future__ import annotations

import hashlib
import os
import tempfile

from ..errors import ConfigurationError

__all__ = [
    "DEFAULT_IDLE_TIMEOUT_S",
    "HEAD_NAMESPACE",
    "IDLE_TIMEOUT_ENV",
    "LOCAL_MODES",
    "LOCAL_MODE_ENV",
    "STATE_DIR_ENV",
    "head_state_dir",
    "idle_timeout_from_env",
    "local_mode",
    "parse_idle_timeout",
    "ray_temp_dir_for",
]

LOCAL_MODE_ENV = "DELUGE_RAY_LOCAL"
#: The namespace of the head process's own Ray job (``_head_main``): not a user's driver.
HEAD_NAMESPACE = "_deluge_ray_head"
LOCAL_MODES = ("machine", "process")
STATE_DIR_ENV = "DELUGE_RAY_STATE_DIR"
IDLE_TIMEOUT_ENV = "DELUGE_RAY_HEAD_IDLE_TIMEOUT"
DEFAULT_IDLE_TIMEOUT_S = 600.0
_NEVER = ("0", "never", "none", "off")


def local_mode() -> str:
    """``"machine"`` (share the machine-wide head) or ``"process"`` (a private Ray)."""
    raw = os.environ.get(LOCAL_MODE_ENV, "").strip().lower() or "machine"
    if raw not in LOCAL_MODES:
        raise ConfigurationError(
            f"{LOCAL_MODE_ENV}={os.environ[LOCAL_MODE_ENV]!r} is not one of {LOCAL_MODES}: "
            "use 'machine' to share one local Ray head per machine (the default) or "
            "'process' for a Ray that ends with this process."
        )
    return raw


def head_state_dir() -> str:
    """The directory holding the head's record, lock and logs (not created here)."""
    explicit = os.environ.get(STATE_DIR_ENV, "").strip()
    if explicit:
        return os.path.abspath(os.path.expanduser(explicit))
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "deluge_ray", "head")


def parse_idle_timeout(raw: str | float | None, *, source: str = IDLE_TIMEOUT_ENV) -> float | None:
    """Seconds of idleness before the head stops; ``None`` means never.

    >>> parse_idle_timeout("90"), parse_idle_timeout("never"), parse_idle_timeout(None)
    (90.0, None, 600.0)
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return DEFAULT_IDLE_TIMEOUT_S
    if isinstance(raw, str) and raw.strip().lower() in _NEVER:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        value = -1.0
    if value == 0:
        return None
    if not value > 0:
        raise ConfigurationError(
            f"{source}={raw!r} is not a number of seconds: give e.g. 600, or 0 / 'never' "
            "to keep the head until `deluge-ray down`."
        )
    return value


def idle_timeout_from_env() -> float | None:
    """``DELUGE_RAY_HEAD_IDLE_TIMEOUT`` in seconds (default 600; ``None``: never)."""
    return parse_idle_timeout(os.environ.get(IDLE_TIMEOUT_ENV))


def ray_temp_dir_for(state_dir: str) -> str:
    """Ray's temp dir for the head of ``state_dir``: short, and this head's alone."""
    base = os.environ.get("RAY_TMPDIR") or tempfile.gettempdir()
    digest = hashlib.sha256(state_dir.encode()).hexdigest()[:10]
    return os.path.join(base, f"deluge_ray-{os.getuid()}-{digest}")
