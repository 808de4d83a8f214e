"""Driver memory: peak resident memory of the driver process while it sends many prompts.

Run:  python benchmarks/bench_memory.py [--quick] [--prompts N]

Same set-up as the overhead benchmark (``bench_overhead.run_bulk``: a mock with no limit
and no latency in its own process, each client in its own worker process, one warm-up
prompt, then one ``process_prompts`` call) with 100,000 distinct prompts (quick 10,000).

* driver peak RSS: the worker's kernel high-water mark (``VmHWM``), exact;
* after warm-up: the same mark just before the batch (the client, its imports and, for
  deluge_ray, the Ray client libraries), so ``peak - after warm-up`` is what the batch
  itself cost, per prompt;
* process tree peak: driver plus every process it started (for deluge_ray: the embedded
  Ray's raylet, GCS, agents, the RateLimiter and ProviderCaller actors), sampled every
  0.5 s, so it can miss a short spike. lm-deluge starts no processes.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import bench_overhead as O


def run(quick: bool = False, prompts: int | None = None) -> dict[str, Any]:
    n = prompts or (10_000 if quick else 100_000)
    sides = O.run_bulk("memory", n)
    for side in sides.values():
        grown = side["driver_peak_rss_mb"] - side["driver_rss_after_warmup_mb"]
        side["batch_growth_mb"] = round(grown, 1)
        side["kib_per_prompt"] = round(grown * 1024 / n, 2)
    report = {
        "benchmark": "memory",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "prompts": n,
            "concurrency": O.CONCURRENCY,
            "latency_ms": 0,
            "client_rpm": C.NO_LIMIT_RPM,
        },
        "sides": sides,
    }
    C.write_json("memory", report)
    return report


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    rows = [
        [
            "driver peak RSS (MiB, lower is better)",
            dr["driver_peak_rss_mb"],
            lm["driver_peak_rss_mb"],
            C.ratio(dr["driver_peak_rss_mb"], lm["driver_peak_rss_mb"]),
        ],
        [
            "driver RSS after warm-up, before the batch (MiB)",
            dr["driver_rss_after_warmup_mb"],
            lm["driver_rss_after_warmup_mb"],
            "",
        ],
        [
            "growth during the batch (MiB)",
            dr["batch_growth_mb"],
            lm["batch_growth_mb"],
            C.ratio(dr["batch_growth_mb"], lm["batch_growth_mb"]),
        ],
        ["growth per prompt (KiB)", dr["kib_per_prompt"], lm["kib_per_prompt"], ""],
        [
            "whole process tree peak (MiB, sampled)",
            dr.get("tree_peak_rss_mb"),
            lm.get("tree_peak_rss_mb"),
            "",
        ],
        [
            "batch wall time (s)",
            dr["batch_s"],
            lm["batch_s"],
            C.ratio(dr["batch_s"], lm["batch_s"]),
        ],
        [f"prompts failed (of {cfg['prompts']})", dr["failed"], lm["failed"], ""],
    ]
    return "\n".join(
        [
            "## 4. Driver memory",
            "",
            f"{cfg['prompts']:,} distinct prompts in one call (mock: no limit, no latency). "
            "Driver peak = the kernel's high-water mark of the driver process. The process "
            "tree adds, for deluge_ray, the embedded Ray and its actors.",
            "",
            C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10,000 prompts instead of 100,000")
    parser.add_argument("--prompts", type=int, default=None, help="override the prompt count")
    args = parser.parse_args()
    print(markdown(run(args.quick, args.prompts)))


if __name__ == "__main__":
    main()
