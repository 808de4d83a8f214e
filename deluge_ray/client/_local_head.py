"""The machine-wide local Ray head: find it, start it, describe it, stop it.

When no cluster is given, the first deluge_ray process on the machine starts a local Ray
head that outlives it, and every later process joins that one, so that they share one
RateLimiter per key, one CacheActor per name and a warm Ray. The head is a detached
process of ours, ``_head_main``, that starts Ray and holds it (its own session, no
dashboard unless asked, no usage stats, token authentication off unless ``RAY_AUTH_MODE``
says otherwise, Ray's default CPU count) with Ray's files in a temp dir of its own; beside it
runs the idle watcher (``_head_watcher``), which stops it after
``DELUGE_RAY_HEAD_IDLE_TIMEOUT`` seconds (default 600) with no driver connected.

Everything that checks, starts or stops the head holds the state directory's lock
(``_head_state.state_lock``), so two processes starting at the same instant start one
head: the second finds the first one's record and joins it.

    >>> record = ensure_local_head()          # doctest: +SKIP
    >>> describe_local_head()["address"]      # doctest: +SKIP
    '192.0.2.2:41234'
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from typing import Any

from ..errors import RuntimeUnavailableError
from ._head_settings import (
    HEAD_NAMESPACE,
    head_state_dir,
    idle_timeout_from_env,
    ray_temp_dir_for,
)
from ._head_state import (
    HEAD_LOG,
    WATCHER_LOG,
    HeadRecord,
    pid_alive,
    process_start_ticks,
    read_record,
    record_alive,
    remove_record,
    state_lock,
    touch_join_marker,
    wait_for_exit,
    write_record,
)

__all__ = [
    "START_TIMEOUT_S",
    "count_drivers",
    "describe_local_head",
    "ensure_local_head",
    "find_or_start_local_head",
    "stop_local_head",
    "terminate_head",
]

#: Seconds a new head has to come up (it takes 3-40 s on a loaded 2-core machine).
START_TIMEOUT_S = 180.0
#: Seconds a stopping head has to drain and exit before it is killed.
STOP_TIMEOUT_S = 60.0
#: Seconds the idle watcher waits before it imports deluge_ray and Ray. Those imports cost
#: the best part of a CPU second, and the process that just started the head is joining it
#: and creating its first actors at that moment: on 2 cores, an immediate watcher made that
#: process's join take 0.57-0.60 s instead of 0.34-0.37 s (measured 2026-12-04). The watcher
#: is only needed minutes later (it stops a head idle for DELUGE_RAY_HEAD_IDLE_TIMEOUT).
WATCHER_START_DELAY_S = 3.0
# The watcher's command: sleep first, then run it (its argv: --state-dir DIR).
_WATCHER_BOOT = (
    "import sys, time; time.sleep({delay}); "
    "from deluge_ray.client._head_watcher import main; sys.exit(main(sys.argv[1:]))"
)
_KEEP = object()  # "leave the idle timeout as it is"
# The Popen objects of what this process started: kept so they are reaped, never waited on.
_spawned: list[subprocess.Popen] = []
#: The file, in the head's Ray temp dir, where the head's process writes its GCS address.
READY_FILE = "deluge_ray_head_address"
_gcs_clients: dict[str, Any] = {}


def count_drivers(address: str, timeout: float = 5.0) -> int:
    """Drivers connected to the head at ``address`` (its GCS job table; raises if unreachable)."""
    from ray._raylet import GcsClient

    client = _gcs_clients.get(address)
    if client is None:  # one per address: the watcher asks every few seconds for hours
        client = _gcs_clients[address] = GcsClient(address=address)
    jobs = client.get_all_job_info(
        skip_submission_job_info_field=True, skip_is_running_tasks_field=True, timeout=timeout
    )
    return sum(
        1
        for job in jobs.values()
        if not job.is_dead
        # Neither Ray's own jobs nor the head process's (_head_main) are a user's driver.
        and not job.config.ray_namespace.startswith(("_ray_internal", HEAD_NAMESPACE))
    )


def _log_tail(path: str, lines: int = 8) -> str:
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:]).strip()
    except OSError:
        return ""


def _read_address(ready_file: str) -> str:
    """The address the head wrote, or "" while it has not yet (see ``_head_main``)."""
    try:
        with open(ready_file) as f:
            return f.read().strip()
    except OSError:
        return ""


def _head_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("RAY_ADDRESS", None)  # the head is a new cluster, not a join
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    env.setdefault("RAY_AUTH_MODE", "disabled")  # a private head; the user's choice wins
    return env


def _spawn(cmd: list[str], log_path: str, cwd: str, env: dict[str, str]) -> subprocess.Popen:
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,  # no terminal signals, outlives this process
        )
    _spawned.append(proc)
    return proc


def _start_head(state_dir: str, idle_timeout_s: float | None, dashboard: bool) -> HeadRecord:
    temp_dir = ray_temp_dir_for(state_dir)
    os.makedirs(temp_dir, exist_ok=True)
    ready_file = os.path.join(temp_dir, READY_FILE)  # written once the head is up
    with contextlib.suppress(FileNotFoundError):
        os.remove(ready_file)
    log_path = os.path.join(state_dir, HEAD_LOG)
    env = _head_environment()
    cmd = [
        sys.executable,
        "-m",
        "deluge_ray.client._head_main",
        f"--ready-file={ready_file}",
        f"--temp-dir={temp_dir}",
    ]
    if dashboard:
        cmd.append("--dashboard")
    head = _spawn(cmd, log_path, state_dir, env)
    deadline = time.monotonic() + START_TIMEOUT_S
    while not (address := _read_address(ready_file)):
        if head.poll() is not None or time.monotonic() > deadline:
            if head.poll() is None:
                head.kill()
            said = (_log_tail(log_path).splitlines() or ["no output"])[-1]
            if time.monotonic() > deadline:
                said = f"not up within {START_TIMEOUT_S:g} s"
            raise RuntimeUnavailableError(
                f"Could not start the machine-wide local Ray head (see {log_path}): "
                f"{said}. "
                "Set DELUGE_RAY_LOCAL=process to use a Ray of this process instead."
            )
        time.sleep(0.05)
    record = HeadRecord(
        address=address,
        head_pid=head.pid,
        head_start_ticks=process_start_ticks(head.pid),
        started_at=time.time(),
        idle_timeout_s=idle_timeout_s,
        ray_temp_dir=temp_dir,
        python=sys.executable,
    )
    write_record(state_dir, record)
    watcher = _spawn(
        [
            sys.executable,
            "-c",
            _WATCHER_BOOT.format(delay=WATCHER_START_DELAY_S),
            "--state-dir",
            state_dir,
        ],
        os.path.join(state_dir, WATCHER_LOG),
        state_dir,
        env,
    )
    record.watcher_pid = watcher.pid
    write_record(state_dir, record)
    return record


def terminate_head(record: HeadRecord, timeout: float = STOP_TIMEOUT_S) -> None:
    """Stop the head ``record`` names: SIGTERM (it shuts its Ray down), then SIGKILL after
    ``timeout`` seconds, to its whole process group."""
    if not pid_alive(record.head_pid, record.head_start_ticks):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.head_pid, signal.SIGTERM)
    if not wait_for_exit(record.head_pid, record.head_start_ticks, timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(record.head_pid, signal.SIGKILL)
        # Ray's agents outlive a killed head: they are the raylet's children, not its.
        # They are in the head's process group (it was started in a session of its own).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(record.head_pid, signal.SIGKILL)
        wait_for_exit(record.head_pid, record.head_start_ticks, 10.0)


def ensure_local_head(
    *, idle_timeout_s: Any = _KEEP, dashboard: bool = False, announce_join: bool = True
) -> HeadRecord:
    """The running machine-wide head, started first if there is none (or only a dead one).

    The arguments are those of :func:`find_or_start_local_head`.
    """
    record, _started = find_or_start_local_head(
        idle_timeout_s=idle_timeout_s, dashboard=dashboard, announce_join=announce_join
    )
    return record


def find_or_start_local_head(
    *, idle_timeout_s: Any = _KEEP, dashboard: bool = False, announce_join: bool = True
) -> tuple[HeadRecord, bool]:
    """``(record, started)``: the running head, and whether this call started it.

    ``idle_timeout_s`` (seconds, ``None`` for never) sets a running head's timeout too;
    by default a new head takes ``DELUGE_RAY_HEAD_IDLE_TIMEOUT`` and a running one keeps
    its own. ``announce_join`` marks that this process is about to join, which keeps the
    idle watcher from stopping the head before the join is done.
    """
    state_dir = head_state_dir()
    with state_lock(state_dir):
        record = read_record(state_dir)
        if record is not None and not record_alive(record):
            terminate_head(record, timeout=10.0)  # a half-dead head: its port is closed
            remove_record(state_dir)
            record = None
        started = record is None
        if record is None:
            timeout = idle_timeout_from_env() if idle_timeout_s is _KEEP else idle_timeout_s
            record = _start_head(state_dir, timeout, dashboard)
        elif idle_timeout_s is not _KEEP and idle_timeout_s != record.idle_timeout_s:
            record.idle_timeout_s = idle_timeout_s
            write_record(state_dir, record)
        if announce_join:
            touch_join_marker(state_dir)
    return record, started


def stop_local_head(timeout: float = STOP_TIMEOUT_S) -> HeadRecord | None:
    """Stop the machine-wide head and its watcher; return its record (``None``: none ran)."""
    state_dir = head_state_dir()
    with state_lock(state_dir):
        record = read_record(state_dir)
        if record is None:
            return None
        remove_record(state_dir)
        if record.watcher_pid and pid_alive(record.watcher_pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(record.watcher_pid, signal.SIGTERM)
        terminate_head(record, timeout)
    return record


def describe_local_head() -> dict[str, Any] | None:
    """The machine-wide head as a dict, or ``None`` if none is running.

    Keys: ``address``, ``pid`` (the head's process), ``watcher_pid``,
    ``started_at`` (epoch seconds), ``uptime_s``, ``idle_timeout_s`` (``None``: never),
    ``drivers`` (connected now; ``None`` if the head did not answer), ``state_dir``,
    ``ray_temp_dir``, ``python``, ``log``. Takes no lock and starts nothing.
    """
    state_dir = head_state_dir()
    record = read_record(state_dir)
    if record is None or not record_alive(record):
        return None
    try:
        drivers: int | None = count_drivers(record.address, timeout=2.0)
    except Exception:
        drivers = None
    return {
        "address": record.address,
        "pid": record.head_pid,
        "watcher_pid": record.watcher_pid if pid_alive(record.watcher_pid) else None,
        "started_at": record.started_at,
        "uptime_s": round(time.time() - record.started_at, 1),
        "idle_timeout_s": record.idle_timeout_s,
        "drivers": drivers,
        "state_dir": state_dir,
        "ray_temp_dir": record.ray_temp_dir,
        "python": record.python,
        "log": os.path.join(state_dir, HEAD_LOG),
    }
