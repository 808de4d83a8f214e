"""``deluge-ray up`` and ``deluge-ray down``: start and stop this machine's local Ray head.

``up`` starts the machine-wide head every deluge_ray process on this machine joins when no
cluster is given (or reports the one already running, setting its idle timeout if asked);
``down`` stops it and its idle watcher. Both print one short table.
"""

from __future__ import annotations

import argparse
import time

from ._tables import print_table

__all__ = ["add_head_parsers", "run_down", "run_up"]


def add_head_parsers(sub: argparse._SubParsersAction, formatter: type) -> None:
    """Register ``up`` and ``down`` on the ``deluge-ray`` subcommand parser."""
    up = sub.add_parser(
        "up",
        help="start this machine's shared local Ray head (or show the one running)",
        description="Start the local Ray head that every deluge_ray process on this machine "
        "joins when no cluster is given (DELUGE_RAY_STATE_DIR says where its record lives). "
        "It stops itself after the idle timeout with no driver connected.",
        epilog="output: a table of the head's address, pid, idle timeout and start time.\n\n"
        "exit codes:\n  0    the head is running\n  2    it could not be started",
        formatter_class=formatter,
    )
    up.add_argument(
        "--idle-timeout",
        metavar="SECONDS",
        help="stop after this long with no driver (0 or 'never': only `deluge-ray down`); "
        "also changes a running head's timeout. Unset: a new head takes "
        "DELUGE_RAY_HEAD_IDLE_TIMEOUT (else 600), a running one keeps its own",
    )
    up.add_argument(
        "--dashboard", action="store_true", help="start Ray's dashboard too (a new head only)"
    )
    sub.add_parser(
        "down",
        help="stop this machine's shared local Ray head",
        description="Stop the machine-wide local Ray head and its idle watcher. Drivers "
        "still connected to it lose their Ray.",
        epilog="output: one line saying which head was stopped, or that none was running.\n\n"
        "exit codes:\n  0    stopped, or none was running",
        formatter_class=formatter,
    )


def _idle_text(seconds: float | None) -> str:
    return "never" if seconds is None else f"{seconds:g} s"


def run_up(args: argparse.Namespace) -> int:
    """Start (or find) the head; print where it is."""
    from ..client._head_settings import parse_idle_timeout
    from ..client._local_head import find_or_start_local_head

    kwargs = {}
    if args.idle_timeout is not None:
        kwargs["idle_timeout_s"] = parse_idle_timeout(args.idle_timeout, source="--idle-timeout")
    record, started = find_or_start_local_head(
        dashboard=args.dashboard, announce_join=False, **kwargs
    )
    print_table(
        "deluge-ray up: " + ("started" if started else "already running"),
        [
            ("address", record.address),
            ("pid", str(record.head_pid)),
            ("idle timeout", _idle_text(record.idle_timeout_s)),
            ("started", time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.started_at))),
        ],
    )
    return 0


def run_down(args: argparse.Namespace) -> int:
    """Stop the head if one runs."""
    from ..client._local_head import stop_local_head

    record = stop_local_head()
    if record is None:
        print("deluge-ray down: no local Ray head is running")
    else:
        print(f"deluge-ray down: stopped the local Ray head at {record.address}")
    return 0
