"""The idle watcher: a small detached process beside the machine-wide local Ray head.

Started by whoever starts the head (``python -m deluge_ray.client._head_watcher
--state-dir DIR`` runs it by hand; the head's starter runs :func:`main` after a short
sleep, ``_local_head.WATCHER_START_DELAY_S``, so that its imports do not slow the starter's
own join), it looks at the head's GCS every few seconds for connected drivers
(the job table: a driver's job is alive while it is connected) and applies
:class:`~deluge_ray.client._head_idle.IdleRule`. Once the head has been idle for its
timeout it takes the state directory's lock, looks once more (a process may have just
announced a join), removes the record and stops the head. It exits when the head is gone
(stopped by ``deluge-ray down`` or crashed), and stops the head on SIGTERM too.

It never connects to Ray as a driver (that would keep the head busy forever): it only
reads the GCS through Ray's GCS client.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from collections.abc import Sequence

from ._head_idle import IdleRule, watch_until_idle
from ._head_state import (
    join_marker_time,
    pid_alive,
    read_record,
    remove_record,
    state_lock,
)
from ._local_head import count_drivers, terminate_head

__all__ = ["main"]


def _log(message: str) -> None:
    print(f"{time.strftime('%Y-%m-%d %H:%M:%S')} deluge-ray watcher: {message}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Watch the head recorded in ``--state-dir`` until it stops; return the exit status."""
    parser = argparse.ArgumentParser(description="Stop an idle deluge_ray local Ray head.")
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)
    state_dir = args.state_dir
    record = read_record(state_dir)
    if record is None:
        _log(f"no head recorded in {state_dir}; nothing to watch")
        return 0
    head_pid, ticks = record.head_pid, record.head_start_ticks
    asked = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: asked.set())
    signal.signal(signal.SIGINT, lambda *_: asked.set())

    def timeout_now() -> float | None:
        current = read_record(state_dir)
        return current.idle_timeout_s if current is not None else record.idle_timeout_s

    def still_ours() -> bool:
        current = read_record(state_dir)
        return current is not None and current.head_pid == head_pid

    rule = IdleRule(record.idle_timeout_s, clock=time.time)
    _log(f"watching the head at {record.address} (pid {head_pid})")
    while True:
        why = watch_until_idle(
            rule,
            count_drivers=lambda: count_drivers(record.address),
            last_join=lambda: join_marker_time(state_dir),
            timeout_now=timeout_now,
            head_alive=lambda: pid_alive(head_pid, ticks) and still_ours(),
            sleep=asked.wait,
            stop_requested=asked.is_set,
        )
        with state_lock(state_dir):
            if why == "idle":
                # A process may have announced a join since the last look.
                try:
                    rule.observe(count_drivers(record.address), join_marker_time(state_dir))
                except Exception:
                    continue
                if not rule.should_stop():
                    continue
            if why in ("idle", "asked") and still_ours():
                _log(f"stopping the head ({why}, idle {rule.idle_seconds():.0f} s)")
                remove_record(state_dir, head_pid)
                terminate_head(record)
            elif why == "gone":
                _log("the head is gone")
                remove_record(state_dir, head_pid)
        return 0


if __name__ == "__main__":  # pragma: no cover - runs as its own detached process
    sys.exit(main())
