"""What a state directory says about its local Ray head, and the lock that guards it.

A state directory holds:

- ``head.json``: the :class:`HeadRecord` of the running head (written atomically once the
  head accepts drivers, removed when it stops);
- ``lock``: taken with ``fcntl.flock`` by whoever checks, starts, stops or is about to
  join the head, so two processes starting at the same instant start one head and an
  idle head is never stopped under a process that was just told to join it;
- ``joined``: touched (under the lock) by every process about to join; the idle watcher
  counts that as activity, which covers the moment before the new driver is registered;
- ``head.log`` / ``watcher.log``: the output of the head's process and of the idle watcher.

A record is *alive* when the head's process (checked with its start time, so a
recycled pid does not count) runs and the GCS port accepts a connection.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from typing import Any

__all__ = [
    "HeadRecord",
    "join_marker_time",
    "pid_alive",
    "process_start_ticks",
    "read_record",
    "record_alive",
    "remove_record",
    "state_lock",
    "touch_join_marker",
    "wait_for_exit",
    "write_record",
]

RECORD_FILE = "head.json"
LOCK_FILE = "lock"
JOIN_MARKER = "joined"
HEAD_LOG = "head.log"
WATCHER_LOG = "watcher.log"


@dataclasses.dataclass
class HeadRecord:
    """The running head of one state directory, as ``head.json`` holds it."""

    address: str  # the GCS address drivers join, "ip:port"
    head_pid: int  # the head's process (_head_main): SIGTERM to it stops the head
    head_start_ticks: int | None  # its start time (/proc), to tell a recycled pid apart
    started_at: float  # wall-clock time the head was started
    idle_timeout_s: float | None  # None: never stops by itself
    ray_temp_dir: str
    python: str  # the interpreter the head and its actors run
    watcher_pid: int | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=1)

    @classmethod
    def from_json(cls, text: str) -> HeadRecord:
        data: dict[str, Any] = json.loads(text)
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


def _path(state_dir: str, name: str) -> str:
    return os.path.join(state_dir, name)


def read_record(state_dir: str) -> HeadRecord | None:
    """The record in ``state_dir``, or ``None`` if there is none or it is unreadable."""
    try:
        with open(_path(state_dir, RECORD_FILE)) as f:
            return HeadRecord.from_json(f.read())
    except (OSError, ValueError, TypeError):
        return None


def write_record(state_dir: str, record: HeadRecord) -> None:
    """Replace the record atomically (a reader sees the old one or the new one)."""
    os.makedirs(state_dir, exist_ok=True)
    tmp = _path(state_dir, f".{RECORD_FILE}.{os.getpid()}")
    with open(tmp, "w") as f:
        f.write(record.to_json())
    os.replace(tmp, _path(state_dir, RECORD_FILE))


def remove_record(state_dir: str, head_pid: int | None = None) -> None:
    """Remove the record (only if it still names ``head_pid``, when that is given)."""
    if head_pid is not None:
        current = read_record(state_dir)
        if current is None or current.head_pid != head_pid:
            return
    with contextlib.suppress(FileNotFoundError):
        os.remove(_path(state_dir, RECORD_FILE))


@contextlib.contextmanager
def state_lock(state_dir: str) -> Iterator[None]:
    """Hold the state directory's lock (blocking) for the block."""
    os.makedirs(state_dir, exist_ok=True)
    with open(_path(state_dir, LOCK_FILE), "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def touch_join_marker(state_dir: str) -> None:
    """Record that a process is about to join (call under :func:`state_lock`)."""
    path = _path(state_dir, JOIN_MARKER)
    with open(path, "a"):
        pass
    os.utime(path)


def join_marker_time(state_dir: str) -> float | None:
    """Wall-clock time of the last join announced in ``state_dir``, if any."""
    try:
        return os.stat(_path(state_dir, JOIN_MARKER)).st_mtime
    except OSError:
        return None


def process_start_ticks(pid: int) -> int | None:
    """The start time of ``pid`` in clock ticks since boot (Linux), else ``None``."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[19])  # field 22 of stat(5), counted after "pid (comm)"


def pid_alive(pid: int | None, start_ticks: int | None = None) -> bool:
    """Whether ``pid`` runs (not a zombie) and, if given, started at ``start_ticks``."""
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc (macOS): the signal check is all there is
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return False
    return start_ticks is None or int(fields[19]) == start_ticks


def _port_open(address: str, timeout: float = 1.0) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def record_alive(record: HeadRecord) -> bool:
    """Whether the head a record describes is still there to be joined."""
    return pid_alive(record.head_pid, record.head_start_ticks) and _port_open(record.address)


def wait_for_exit(pid: int, start_ticks: int | None, timeout: float) -> bool:
    """Poll until ``pid`` has exited (``True``) or ``timeout`` seconds pass (``False``)."""
    deadline = time.monotonic() + timeout
    while pid_alive(pid, start_ticks):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True
