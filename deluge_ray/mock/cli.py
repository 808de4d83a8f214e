"""``deluge-ray mock-server`` / ``python -m deluge_ray.mock``: serve the mock in the foreground.

$ python -m deluge_ray.mock --port 8765 --rpm 600 --tpm 200000 --latency-ms 50
"""

from __future__ import annotations

import argparse
import sys
import threading

from .._process_gc import tune_server_gc
from ._config import Faults, Latency, Limits, MockConfig
from ._server import MockProvider

__all__ = ["add_arguments", "build_config", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the mock server's options to ``parser``."""
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (0 = any free)")
    parser.add_argument("--rpm", type=float, default=None, help="requests/minute per key+model")
    parser.add_argument("--tpm", type=float, default=None, help="tokens/minute per key+model")
    parser.add_argument(
        "--max-concurrent", type=int, default=None, help="concurrent requests per key+model"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="median response latency in milliseconds"
    )
    parser.add_argument(
        "--latency-p99-ms", type=float, default=None, help="p99 latency (lognormal when set)"
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="fraction of requests answered with 500/503/529 (split evenly)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for latency and fault draws")


def build_config(args: argparse.Namespace) -> MockConfig:
    """The :class:`MockConfig` the parsed options describe."""
    return MockConfig(
        limits=Limits(rpm=args.rpm, tpm=args.tpm, max_concurrent=args.max_concurrent),
        latency=Latency(median_ms=args.latency_ms, p99_ms=args.latency_p99_ms),
        faults=Faults.spread(args.fault_rate),
        seed=args.seed,
    )


def run(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Serve until Ctrl-C (or until ``stop`` is set); print the URL and the env vars to export.

    Without ``stop`` this is the process's whole job (the command line), so the process
    gets the server collector settings of :mod:`deluge_ray._process_gc`; with one (a
    caller serving in a thread of its own process), the process is left as it is.
    """
    if stop is None:
        tune_server_gc()
    mock = MockProvider(build_config(args), port=args.port)
    try:
        # Inside the try: a Ctrl-C that lands while the server is starting (it may already
        # accept connections) stops it as cleanly as one that lands later.
        mock.start()
        banner = [f"deluge-ray mock provider listening on {mock.url}", "Point clients at it with:"]
        banner += [f"  export {name}={value}" for name, value in mock.environment().items()]
        banner.append(f"Stats: {mock.url}/_mock/stats   (Ctrl-C to stop)")
        # One write: a Ctrl-C during the banner cannot leave half a line on the terminal.
        sys.stdout.write("\n".join(banner) + "\n")
        sys.stdout.flush()
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        mock.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m deluge_ray.mock", description="Run the deluge_ray mock LLM provider."
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
