"""Serve one ``deluge_ray.mock.MockProvider`` in a process of its own, for the benchmarks.

Run by ``_common.MockServer``; not meant to be started by hand::

    python benchmarks/_mock_host.py --config '{"rpm": 3000, "latency_ms": 200}'

The mock gets its own process so that its event loop never competes with a benchmarked
client for the driver's GIL, its memory never counts as the driver's, and several driver
processes can share it. That process runs with the collector settings of
``deluge_ray._process_gc``, as ``deluge-ray mock-server`` does. It prints ``READY <url>`` once listening, then obeys one command
per line on stdin, answering each with one JSON line on stdout:

* ``stats``  -> the mock's ``stats()`` plus ``finished_per_second``: unix second ->
  {status: responses finished in that second}. The mock's own ``per_second`` counts
  arrivals only, and a 429 is answered at once while a success waits out the latency,
  so served and refused requests per second are counted here, as each response
  finishes. If the mock's internals ever change so that this hook cannot be installed,
  ``timeline`` samples ``[unix_time, requests, rate_limited]`` (taken every
  ``SAMPLE_SECONDS``) are the coarser fallback;
* ``quit`` (or end of input) -> stop the server and exit.

Config keys: ``rpm``, ``tpm``, ``max_concurrent``, ``latency_ms``, ``burst_seconds`` and
``agent_tool_rounds`` (when set, every model answers with a ``lookup`` tool call until the
conversation holds that many tool results, then with a final text: an agent workload).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time

from deluge_ray._process_gc import tune_server_gc
from deluge_ray.mock import Latency, Limits, MockConfig, MockProvider, Reply, RequestView

SAMPLE_SECONDS = 0.25


def build_config(spec: dict) -> MockConfig:
    limits = Limits(
        rpm=spec.get("rpm"),
        tpm=spec.get("tpm"),
        max_concurrent=spec.get("max_concurrent"),
        burst_seconds=spec.get("burst_seconds", 1.0),
    )
    return MockConfig(limits=limits, latency=Latency.fixed(spec.get("latency_ms", 0.0)))


def agent_rule(rounds: int):
    """A scripted model that calls ``lookup`` ``rounds`` times, then answers."""

    def reply(view: RequestView) -> Reply | str:
        done = len(view.tool_results)
        if done < rounds:
            return Reply.tool_call("lookup", {"step": done + 1})
        return f"Final answer after {done} lookups."

    return reply


class FinishedCounter:
    """Counts finished responses per second and status, by wrapping the mock's stats hook."""

    def __init__(self, mock: MockProvider) -> None:
        self.lock = threading.Lock()
        self.counts: dict[int, dict[str, int]] = {}
        self.installed = False
        stats = getattr(getattr(mock, "_core", None), "stats", None)
        original = getattr(stats, "request_finished", None)
        if original is None:
            return

        def request_finished(status: int, **kwargs: object) -> None:
            original(status, **kwargs)
            second = int(time.time())
            with self.lock:
                row = self.counts.setdefault(second, {})
                row[str(status)] = row.get(str(status), 0) + 1

        stats.request_finished = request_finished
        self.installed = True

    def snapshot(self) -> dict[str, dict[str, int]] | None:
        if not self.installed:
            return None
        with self.lock:
            return {str(k): dict(v) for k, v in sorted(self.counts.items())}


class Sampler(threading.Thread):
    """Records (time, requests, rate_limited) a few times a second until stopped."""

    def __init__(self, mock: MockProvider) -> None:
        super().__init__(name="bench-mock-sampler", daemon=True)
        self.mock = mock
        self.samples: list[list[float]] = []
        self.lock = threading.Lock()
        self.halt = threading.Event()

    def sample(self) -> None:
        snap = self.mock.stats()
        with self.lock:
            self.samples.append([round(time.time(), 3), snap["requests"], snap["rate_limited"]])

    def run(self) -> None:
        while not self.halt.wait(SAMPLE_SECONDS):
            self.sample()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="{}", help="JSON object, see the module docstring")
    args = parser.parse_args()
    spec = json.loads(args.config)
    tune_server_gc()  # this process serves the mock alone, as `deluge-ray mock-server` does

    mock = MockProvider(build_config(spec))
    mock.start()
    rounds = spec.get("agent_tool_rounds")
    if rounds:
        mock.script("*", agent_rule(int(rounds)))
    finished = FinishedCounter(mock)
    sampler = Sampler(mock)
    sampler.start()
    try:
        print(f"READY {mock.url}", flush=True)
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                sampler.sample()
                snap = mock.stats()
                with sampler.lock:
                    snap["timeline"] = list(sampler.samples)
                snap["finished_per_second"] = finished.snapshot()
                print(json.dumps(snap), flush=True)
            elif command == "quit":
                break
            elif command:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    finally:
        sampler.halt.set()
        mock.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
