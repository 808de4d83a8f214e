"""Long requests at high concurrency: 5,000 in flight, 10 s each (issue 16, item 5).

Run:  python benchmarks/bench_long_requests.py [--quick]

The mock provider (its own process) answers every request after a fixed 10 s and enforces
no limit. Each client, in its own worker process, is configured with
``max_concurrent_requests=5000`` and a request limit out of reach
(``_common.NO_LIMIT_RPM``; tokens far out of reach too) and sent 20,000 distinct prompts at once (quick: 4,000 prompts, 1,000
concurrent, 2 s latency). One prompt is sent first as a warm-up (Ray start-up and the
callers; not measured).

Figures:

* completions/s in steady state, from the mock's counters: responses finished per second,
  averaged from 2 s after the first completion to the last second in which the client
  still sent new requests (while it keeps every slot busy); target >= 95 % of
  ``concurrency / latency`` (475/s at full scale);
* peak in-flight, counted on the mock (``peak_concurrency``: requests it held at once),
  and the mean in-flight over the steady window (arrivals minus completions);
* peak memory of each worker's whole process tree (the driver, and for deluge_ray the
  local Ray it started: raylet, GCS, the ProviderCallers, the RateLimiter), sampled every
  0.5 s;
* for deluge_ray, how many ProviderCallers the client started (``callers_for``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

FULL = {"prompts": 20_000, "concurrency": 5_000, "latency_s": 10.0}
QUICK = {"prompts": 4_000, "concurrency": 1_000, "latency_s": 2.0}
TARGET_FRACTION = 0.95


# ---------------------------------------------------------------------------- workers
def deluge_ray_side(params: dict[str, Any]) -> dict[str, Any]:
    client = C.deluge_ray_client(
        params["base_url"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=params["concurrency"],
    )
    t0 = time.perf_counter()
    client.process_prompts_sync(["warm-up"], show_progress=False)
    C.wait_for_callers(client)
    warmup_s = time.perf_counter() - t0
    batch = C.prompts(params["n"], "long")
    start = time.time()
    responses = client.process_prompts_sync(batch, show_progress=False)
    end = time.time()
    out = {
        "batch_start": start,
        "batch_end": end,
        "warmup_s": round(warmup_s, 2),
        "callers": len(client._engine.pool.live_callers()),
        **C.response_summary(responses),
        "limiter": C.limiter_stats(client),
    }
    client.shutdown()
    return out


def lm_deluge_side(params: dict[str, Any]) -> dict[str, Any]:
    client = C.lm_deluge_client(
        params["base_url"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=params["concurrency"],
        request_timeout=max(30, int(4 * params["latency_s"])),
    )

    async def main() -> dict[str, Any]:
        t0 = time.perf_counter()
        await client.process_prompts_async(["warm-up"], show_progress=False)
        warmup_s = time.perf_counter() - t0
        batch = C.prompts(params["n"], "long")
        start = time.time()
        responses = await client.process_prompts_async(batch, show_progress=False)
        end = time.time()
        return {
            "batch_start": start,
            "batch_end": end,
            "warmup_s": round(warmup_s, 2),
            **C.response_summary(responses),
        }

    return asyncio.run(main())


SIDES = {"deluge_ray": deluge_ray_side, "lm_deluge": lm_deluge_side}


# ---------------------------------------------------------------------------- orchestrator
def steady_completions(series: list[dict[str, Any]]) -> dict[str, Any]:
    """Completions/s and in-flight over the window in which every slot stays busy."""
    finished = [i for i, row in enumerate(series) if row["accepted"]]
    sending = [i for i, row in enumerate(series) if row["received"]]
    if not finished or not sending:
        return {"steady_completions_per_s": 0.0, "steady_seconds": 0}
    lo, hi = finished[0] + 2, sending[-1]
    if hi - lo + 1 < 3:
        lo, hi = finished[0], finished[-1]  # too short: the whole run
    window = series[lo : hi + 1]
    in_flight, running = [], 0
    for i, row in enumerate(series):
        running += row["received"] - row["accepted"] - row["rate_limited"]
        if lo <= i <= hi:
            in_flight.append(running)
    return {
        "steady_completions_per_s": round(sum(r["accepted"] for r in window) / len(window), 1),
        "steady_mean_in_flight": round(sum(in_flight) / len(in_flight)),
        "steady_seconds": len(window),
        "steady_window_t": [series[lo]["t"], series[hi]["t"]],
    }


def run(quick: bool = False) -> dict[str, Any]:
    cfg = QUICK if quick else FULL
    target = TARGET_FRACTION * cfg["concurrency"] / cfg["latency_s"]
    sides: dict[str, Any] = {}
    for side in SIDES:
        with C.MockServer(latency_ms=1000 * cfg["latency_s"]) as mock:
            params = {
                "base_url": mock.openai_base_url,
                "n": cfg["prompts"],
                "concurrency": cfg["concurrency"],
                "latency_s": cfg["latency_s"],
            }
            result = C.run_worker(
                __file__, side, params, label=f"long-requests-{side}", timeout=900
            )
            stats = mock.stats()
        result["mock"] = {
            "requests": stats["requests"],
            "peak_in_flight": stats["peak_concurrency"],
            "by_status": stats["by_status"],
        }
        result["series"] = C.second_series(stats, result["batch_start"], result["batch_end"])
        result.update(steady_completions(result["series"]))
        result["batch_s"] = round(result["batch_end"] - result["batch_start"], 1)
        result["target_met"] = (
            result["steady_completions_per_s"] >= target and result["failed"] == 0
        )
        sides[side] = result
    report = {
        "benchmark": "long_requests",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {**cfg, "target_completions_per_s": round(target, 1)},
        "sides": sides,
    }
    C.write_json("long_requests", report)
    return report


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]

    def pair(label: str, a: Any, b: Any, digits: int = 1) -> list[Any]:
        both = isinstance(a, (int, float)) and isinstance(b, (int, float))
        return [label, C.fmt(a, digits), C.fmt(b, digits), C.ratio(a, b) if both else ""]

    rows = [
        pair(
            f"completions/s, steady state (target >= {cfg['target_completions_per_s']:g})",
            dr["steady_completions_per_s"],
            lm["steady_completions_per_s"],
        ),
        pair(
            f"peak in-flight at the mock (of {cfg['concurrency']:,})",
            dr["mock"]["peak_in_flight"],
            lm["mock"]["peak_in_flight"],
        ),
        pair(
            "mean in-flight, steady state",
            dr.get("steady_mean_in_flight"),
            lm.get("steady_mean_in_flight"),
        ),
        pair(
            "peak memory, whole process tree (MB)",
            dr.get("tree_peak_rss_mb"),
            lm.get("tree_peak_rss_mb"),
        ),
        pair(
            "peak memory, driver alone (MB)",
            dr.get("driver_peak_rss_mb"),
            lm.get("driver_peak_rss_mb"),
        ),
        pair(f"prompts failed (of {cfg['prompts']:,})", dr["failed"], lm["failed"], 0),
        pair("batch wall time (s)", dr["batch_s"], lm["batch_s"]),
        ["ProviderCallers started", C.fmt(dr.get("callers")), "n/a (one process)", ""],
        [
            "target met",
            "yes" if dr["target_met"] else "**no**",
            "yes" if lm["target_met"] else "no",
            "",
        ],
    ]
    return "\n".join(
        [
            "## Long requests at high concurrency",
            "",
            f"{cfg['prompts']:,} distinct prompts at once; the mock answers each after "
            f"{cfg['latency_s']:g} s and enforces no limit; both clients configured with "
            f"max_concurrent_requests={cfg['concurrency']:,} and a request limit out of reach. "
            "Completions and in-flight counted on the mock; the steady window runs from 2 s "
            "after the first completion to the last second in which new requests arrived. "
            "Memory: peak RSS of each worker's process tree (deluge_ray's includes its local "
            f"Ray). Machine load average at the end: {report['machine']['load_average_1m']}.",
            "",
            C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="4,000 prompts, 1,000 at once, 2 s")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
