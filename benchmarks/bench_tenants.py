"""Two jobs on one key: a saturating batch job and an interactive one, with and without
priorities (issue 18).

Run:  python benchmarks/bench_tenants.py [--seconds S]

The mock provider (its own process) enforces 3,000 RPM over one-second windows and answers
after 200 ms. In one driver, two deluge_ray clients share the key (so one RateLimiter):

* a *batch* client with more prompts than the run can send (it saturates the key);
* an *interactive* client sending one prompt per second, each timed from the call to its
  answer.

Run twice: with priorities (``priority="batch"`` and ``priority="interactive"``) and
without (both ``"default"``). Figures: the interactive latencies (p50, p99, against the
mock's 200 ms), the combined rate the mock admitted over the steady part of the run as a
share of the limit, and the 429s. (lm-deluge's side, two processes with a static split,
is not measured here yet.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LIMIT_RPM = 3000
LATENCY_MS = 200


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run_once(base_url: str, mock: Any, seconds: float, priorities: bool) -> dict[str, Any]:
    """One run: batch + interactive clients on a fresh key; returns the figures."""
    os.environ["OPENAI_API_KEY"] = f"bench-tenants-{uuid.uuid4().hex}"  # a fresh limiter
    limits = dict(max_requests_per_minute=LIMIT_RPM, max_tokens_per_minute=C.NO_LIMIT_TPM)
    batch = C.deluge_ray_client(
        base_url,
        priority="batch" if priorities else "default",
        max_concurrent_requests=400,
        **limits,
    )
    interactive = C.deluge_ray_client(
        base_url, priority="interactive" if priorities else "default", num_callers=1, **limits
    )
    interactive.process_prompts_sync(["warm-up"], show_progress=False)
    batch.process_prompts_sync(["warm-up"], show_progress=False)
    n_batch = int(LIMIT_RPM / 60 * seconds * 1.5)
    start_stats = mock.stats()
    started = time.time()
    batch_done = threading.Event()

    def run_batch() -> None:
        batch.process_prompts_sync(C.prompts(n_batch, "batch"), show_progress=False)
        batch_done.set()

    thread = threading.Thread(target=run_batch, daemon=True)
    thread.start()
    time.sleep(3.0)  # let the batch reach saturation first

    async def interactive_loop() -> list[float]:
        latencies: list[float] = []
        tasks = []

        async def one(i: int) -> None:
            t0 = time.perf_counter()
            out = await interactive.process_prompts_async([f"interactive {i}"], show_progress=False)
            if not out[0].is_error:
                latencies.append(time.perf_counter() - t0)

        i = 0
        while time.time() - started < seconds - 1 and not batch_done.is_set():
            tasks.append(asyncio.ensure_future(one(i)))
            i += 1
            await asyncio.sleep(1.0)
        await asyncio.gather(*tasks)
        return latencies

    latencies = asyncio.run(interactive_loop())
    ended = time.time()
    stats = mock.stats()
    batch.shutdown()  # stops the batch job's remaining prompts
    interactive.shutdown()
    series = C.second_series(stats, started + 3.0, ended)
    admitted = [row["accepted"] for row in series[1:-1]]  # whole seconds only
    return {
        "priorities": priorities,
        "interactive_prompts": len(latencies),
        "interactive_p50_ms": 1000 * statistics.median(latencies) if latencies else None,
        "interactive_p99_ms": 1000 * _percentile(latencies, 0.99) if latencies else None,
        "combined_share_of_limit": (sum(admitted) / len(admitted)) / (LIMIT_RPM / 60)
        if admitted
        else None,
        "rate_limited": stats["rate_limited"] - start_stats["rate_limited"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--without-first", action="store_true", help="run without priorities first")
    args = parser.parse_args()
    order = [False, True] if args.without_first else [True, False]
    import ray

    ray.init(namespace="deluge_ray", include_dashboard=False, log_to_driver=False)
    with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
        results = [run_once(mock.openai_base_url, mock, args.seconds, priorities=p) for p in order]
    ray.shutdown()
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
