"""The machine-wide head's own process: it starts a Ray, publishes its address, and waits.

``_local_head`` runs ``python -m deluge_ray.client._head_main --ready-file F --temp-dir D``
as a detached process. It calls ``ray.init(address="local")`` with Ray's files in ``D``
(no dashboard unless ``--dashboard``, no log forwarding), writes the GCS address to ``F``
(atomically: a reader sees the whole address or no file) and then waits. On SIGTERM or
SIGINT it shuts Ray down and exits 0; if it is killed outright, Ray's processes die with
it (Ray ties them to the process that started them).

Why not ``ray start --head --block``: on the 2-core machine this runs on, measured side by
side (2026-12-05), ``ray start`` also runs a Ray Client server (there is no switch to
leave it out) and leaves a one-time cost of about 0.3 s to the first driver that joins,
which is the user's first call. Here the head is up in about the same time with about 1.3
CPU seconds less spent by its processes, and a fresh process joins in 0.03 s instead of
0.33 s (a first task with it: 0.27 s against 0.57 s).

Two of Ray's start-up waits are shortened (``_node_start``): its wait for the new node's
registration, which landed on whole seconds, and a dashboard agent's retries of a port
another Ray on the machine holds.

This process is itself a Ray driver, in namespace ``HEAD_NAMESPACE``; whatever counts
the head's drivers (the idle watcher) leaves that one out.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence

from ._head_settings import HEAD_NAMESPACE
from ._node_start import quick_node_start

__all__ = ["main"]


def _publish(ready_file: str, address: str) -> None:
    partial = f"{ready_file}.{os.getpid()}.tmp"
    with open(partial, "w") as f:
        f.write(address)
    os.replace(partial, ready_file)


def main(argv: Sequence[str] | None = None) -> int:
    """Start Ray, publish its address in ``--ready-file``, wait for SIGTERM; exit status."""
    parser = argparse.ArgumentParser(description="Run deluge_ray's machine-wide Ray head.")
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--temp-dir", required=True)
    parser.add_argument("--dashboard", action="store_true")
    args = parser.parse_args(argv)
    import ray

    with quick_node_start():
        context = ray.init(
            address="local",
            namespace=HEAD_NAMESPACE,
            include_dashboard=args.dashboard,
            log_to_driver=False,
            configure_logging=False,
            _temp_dir=args.temp_dir,
        )
    # Set after ray.init, which puts in its own (a SIGTERM while Ray starts exits through
    # it, and Ray's exit handler shuts down what had started).
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    _publish(args.ready_file, context.address_info["gcs_address"])
    print(f"deluge-ray head: up at {context.address_info['gcs_address']}", flush=True)
    while not stop.wait(1.0):
        pass
    print("deluge-ray head: stopping", flush=True)
    ray.shutdown()
    return 0


if __name__ == "__main__":  # pragma: no cover - runs as its own detached process
    sys.exit(main())
