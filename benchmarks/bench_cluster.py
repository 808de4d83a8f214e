"""Three nodes, one provider limit: pacing, and the limiter's node lost mid-run (issue 16).

Run:  python benchmarks/bench_cluster.py [--quick] [--fast-node-death]

A ``ray.cluster_utils.Cluster`` on this machine: the head and two workers, one CPU each;
worker A offers the custom resource ``control``. One mock provider (its own process)
limits the key to 3,000 requests/minute over one-second windows, 300 ms latency. One
deluge_ray client with three ProviderCallers (spread over the nodes) sends
``50 * duration`` distinct prompts (duration 40 s, quick 12 s). Two parts, each on a key of
its own (so a limiter and a mock quota of its own):

* ``steady``: no fault; the RateLimiter on the head node (the default placement);
* ``limiter_node_lost``: the RateLimiter on worker A (``DELUGE_RAY_CONTROL_NODE=
  resource:control``); a third of the way in, A is killed (``remove_node(allow_graceful=
  False)``) and a node offering ``control`` is added, where Ray restarts the limiter.

Figures from the mock's counters: steady-state served rate as % of the limit, % of all
requests answered 429, failed prompts; for the fault, the recovery time: from the kill to
the first second served at 90 % of the limit or more. How fast Ray notices a dead node is
the cluster's health-check setting (Ray's default: about 15 s); ``--fast-node-death``
sets it to about 5 s, as ``tests/cluster`` does.

Results: ``benchmarks/results/bench_cluster.json``.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LIMIT_RPM = 3_000
LIMIT_RPS = LIMIT_RPM / 60
LATENCY_MS = 300
CALLERS = 3
CONTROL = "control"
FAST_NODE_DEATH = {
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 2000,
    "health_check_failure_threshold": 5,
}


def _recovery_seconds(series: list[dict[str, Any]], killed_unix: float) -> float | None:
    """Seconds from the kill to the start of the first second served at >= 90 % again."""
    for row in series:
        if row["unix"] > killed_unix and row["accepted"] >= 0.9 * LIMIT_RPS:
            return round(row["unix"] - killed_unix, 1)
    return None


def run_part(cluster: Any, part: str, n: int, kill_after: float | None) -> dict[str, Any]:
    """One batch of ``n`` prompts against a fresh mock; kill worker A after ``kill_after`` s."""
    os.environ["OPENAI_API_KEY"] = f"bench-cluster-{uuid.uuid4().hex}"
    if part == "limiter_node_lost":
        os.environ["DELUGE_RAY_CONTROL_NODE"] = f"resource:{CONTROL}"
    else:
        os.environ.pop("DELUGE_RAY_CONTROL_NODE", None)
    with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
        client = C.deluge_ray_client(
            mock.openai_base_url,
            max_requests_per_minute=LIMIT_RPM,
            max_tokens_per_minute=C.NO_LIMIT_TPM,
            num_callers=CALLERS,
        )
        client.process_prompts_sync(["warm up"], show_progress=False)
        C.wait_for_callers(client)
        # Let the mock's one-second bucket refill after the warm-up.
        time.sleep(1.0)
        done = threading.Event()
        with ThreadPoolExecutor(max_workers=1) as pool:
            start = time.time()
            batch = pool.submit(
                client.process_prompts_sync, C.prompts(n, part), show_progress=False
            )
            batch.add_done_callback(lambda _: done.set())
            killed = None
            if kill_after is not None and not done.wait(kill_after):
                # On the main thread: Ray installs signal handlers for a new node.
                victim = cluster.control_node
                killed = time.time()
                cluster.cluster.remove_node(victim, allow_graceful=False)
                cluster.control_node = cluster.cluster.add_node(num_cpus=1, resources={CONTROL: 1})
            responses = batch.result()
            end = time.time()
        limiter = C.limiter_stats(client)
        client.shutdown()
        stats = mock.stats()
    series = C.second_series(stats, start, end)
    requests = stats["requests"]
    out: dict[str, Any] = {
        "part": part,
        "prompts": n,
        "seconds": round(end - start, 1),
        **C.response_summary(responses),
        "requests": requests,
        "rate_limited": stats["rate_limited"],
        "pct_429": round(100.0 * stats["rate_limited"] / max(1, requests), 2),
        **C.steady_state(series, LIMIT_RPS),
        "max_received_in_one_second": max((r["received"] for r in series), default=0),
        "limiter_restarted": bool(limiter and limiter.get("restarted")),
        "series": series,
    }
    if killed is not None:
        out["killed_at_s"] = round(killed - start, 1)
        out["recovery_s"] = _recovery_seconds(series, killed)
    return out


class ThreeNodes:
    """The cluster of this benchmark: head, worker A (``control``), worker B."""

    def __init__(self, fast_node_death: bool) -> None:
        from ray._private.utils import get_ray_address_file
        from ray.cluster_utils import Cluster

        system = FAST_NODE_DEATH if fast_node_death else {}
        # Cluster writes its address to Ray's machine-wide current-cluster file, which would
        # send every plain ray.init() on this machine to it: put the file back at once.
        self._address_file = get_ray_address_file(None)
        self._address_before = (
            Path(self._address_file).read_text() if os.path.exists(self._address_file) else None
        )
        self.cluster = Cluster(
            initialize_head=True, head_node_args={"num_cpus": 1, "_system_config": system}
        )
        self.restore_address_file()
        self.control_node = self.cluster.add_node(num_cpus=1, resources={CONTROL: 1})
        self.cluster.add_node(num_cpus=1)
        self.cluster.wait_for_nodes()

    def restore_address_file(self) -> None:
        if self._address_before is None:
            Path(self._address_file).unlink(missing_ok=True)
        else:
            Path(self._address_file).write_text(self._address_before)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 s per part instead of 40 s")
    parser.add_argument("--duration", type=float, help="seconds of prompts per part")
    parser.add_argument("--fast-node-death", action="store_true", help="~5 s node-death checks")
    args = parser.parse_args()
    duration = args.duration or (12.0 if args.quick else 40.0)
    n = int(LIMIT_RPS * duration)

    import ray

    from deluge_ray.client._runtime import ensure_ray

    nodes = ThreeNodes(args.fast_node_death)
    parts = []
    try:
        ensure_ray(nodes.cluster.address)  # joined as a user's driver joins a cluster
        for part, kill_after in (("steady", None), ("limiter_node_lost", duration / 3)):
            result = run_part(nodes, part, n, kill_after)
            parts.append(result)
            brief = {k: v for k, v in result.items() if k != "series"}
            print(brief, flush=True)
    finally:
        ray.shutdown()
        nodes.cluster.shutdown()
        nodes.restore_address_file()
    C.write_json(
        "bench_cluster",
        {
            "machine": C.machine_info(),
            "limit_rpm": LIMIT_RPM,
            "latency_ms": LATENCY_MS,
            "callers": CALLERS,
            "duration_s": duration,
            "fast_node_death": args.fast_node_death,
            "parts": parts,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
