"""Three driver processes, one provider key: can they share its rate limit?

Run:  python benchmarks/bench_shared_limit.py [--quick]

One mock provider (its own process) limits the key to 3,000 requests/minute over one-second
windows with 200 ms latency. Three driver processes start together (a file barrier after
each has sent one warm-up prompt) and each sends a third of ``50 * duration`` distinct
prompts (duration 60 s, quick 15 s), all with the same API key, so the mock counts them
against one quota.

* deluge_ray: the three drivers join one Ray cluster (started by this script) and each is
  configured with the full 3,000 RPM; they find the same named RateLimiter actor (same
  provider and key fingerprint) and lease from it, so together they pace at the limit.
* lm-deluge: each process has its own in-process limiter and cannot know about the others,
  so each is configured with a third of the limit (1,000 RPM) -- the best static split a
  user could choose. Giving each the full limit would only triple the demand on the quota.

Then the embedded case (issue 15): two driver processes with nothing configured (no
address, no ``RAY_ADDRESS``, ``DELUGE_RAY_LOCAL=machine`` as by default, a state directory
and Ray temp dir of this run's own), started together, so the first starts this machine's
local Ray head and both join it and share its RateLimiter; each is given the full 3,000
RPM and half of ``50 * duration`` prompts. Beside it, two lm-deluge processes each given
half the limit (1,500 RPM). Targets: combined >= 95 % of the limit, <= 1 % 429s.

Figures from the mock's counters: the combined steady-state served rate as % of the limit
(first 3 s and last 2 s of the combined batch excluded), the % of all requests answered
429, prompts failed, and each driver's batch time (how evenly the limit was shared).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import bench_saturation as S
import bench_startup as B

DRIVERS = 3
EMBEDDED_DRIVERS = 2
LIMIT_RPM = S.LIMIT_RPM
LIMIT_RPS = LIMIT_RPM / 60
LATENCY_MS = S.LATENCY_MS
WORKER_SCRIPT = Path(S.__file__)
LABELS = S.LABELS


def _start_ray() -> tuple[Any, str]:
    """A local Ray cluster for the deluge_ray drivers to join; returns (ray, address)."""
    import ray

    ray.init(
        namespace="deluge_ray",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    return ray, ray.get_runtime_context().gcs_address


def run_side(
    side: str,
    n_each: int,
    rpm_each: int,
    env: dict[str, str],
    timeout: float,
    drivers_n: int = DRIVERS,
) -> dict[str, Any]:
    """Start ``drivers_n`` drivers of one client against a fresh mock, release them together."""
    barrier = Path(tempfile.mkdtemp(prefix="bench-shared-"))
    workers: list[C.Worker] = []
    try:
        with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
            for i in range(drivers_n):
                params = {
                    "base_url": mock.openai_base_url,
                    "rpm": rpm_each,
                    "n": n_each,
                    "tag": f"driver{i}",
                    "ready_file": str(barrier / f"ready{i}"),
                    "go_file": str(barrier / "go"),
                }
                workers.append(
                    C.Worker(
                        WORKER_SCRIPT,
                        side,
                        params,
                        env=env,
                        label=f"shared-{side}-{i}",
                        sample_memory=False,
                    )
                )
            deadline = time.time() + 900
            while not all((barrier / f"ready{i}").exists() for i in range(drivers_n)):
                if any(w.proc.poll() is not None for w in workers):
                    break  # a driver died during warm-up; wait() below reports its log
                if time.time() > deadline:
                    raise RuntimeError("drivers did not get ready within 15 minutes")
                time.sleep(0.05)
            (barrier / "go").touch()
            drivers = [w.wait(timeout) for w in workers]
            stats = mock.stats()
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.kill()
        shutil.rmtree(barrier, ignore_errors=True)
    start = min(d["batch_start"] for d in drivers)
    end = max(d["batch_end"] for d in drivers)
    series = C.second_series(stats, start, end)
    out: dict[str, Any] = {
        "rpm_per_driver": rpm_each,
        "drivers": drivers,
        "mock": S.mock_summary(stats),
        "series": series,
        "batch_start": start,
        "batch_end": end,
        "batch_s": round(end - start, 2),
        "driver_batch_s": [round(d["batch_end"] - d["batch_start"], 2) for d in drivers],
        "driver_start_spread_s": round(max(d["batch_start"] for d in drivers) - start, 3),
        "failed": sum(d["failed"] for d in drivers),
        **C.steady_state(series, LIMIT_RPS),
    }
    served = sum(row["accepted"] for row in series)
    out["whole_batch_pct_of_limit"] = round(100.0 * served / (end - start) / LIMIT_RPS, 1)
    return out


def run_embedded(duration: int) -> dict[str, Any]:
    """Two drivers with nothing configured (the machine-wide head), then lm-deluge at half."""
    n_each = int(LIMIT_RPS * duration) // EMBEDDED_DRIVERS
    timeout = 600 + 4 * duration
    with B._machine_env() as machine:
        # Nothing configured: no address from this orchestrator's environment either.
        env = {**machine, "RAY_ADDRESS": ""}
        embedded = run_side(
            "deluge_ray", n_each, LIMIT_RPM, env, timeout, drivers_n=EMBEDDED_DRIVERS
        )
    half = run_side(
        "lm_deluge", n_each, LIMIT_RPM // EMBEDDED_DRIVERS, {}, timeout, drivers_n=EMBEDDED_DRIVERS
    )
    return {
        "config": {
            "drivers": EMBEDDED_DRIVERS,
            "prompts_per_driver": n_each,
            "deluge_ray_rpm_per_driver": LIMIT_RPM,
            "lm_deluge_rpm_per_driver": LIMIT_RPM // EMBEDDED_DRIVERS,
        },
        "sides": {"deluge_ray": embedded, "lm_deluge": half},
    }


def run(quick: bool = False) -> dict[str, Any]:
    duration = 10 if quick else 60
    n_each = int(LIMIT_RPS * duration) // DRIVERS
    sides: dict[str, Any] = {}
    ray, address = _start_ray()
    try:
        sides["deluge_ray"] = run_side(
            "deluge_ray", n_each, LIMIT_RPM, {"RAY_ADDRESS": address}, 600 + 4 * duration
        )
        sides["deluge_ray"]["limiter"] = C.limiter_stats()
    finally:
        ray.shutdown()
    limiter = sides["deluge_ray"]["limiter"] or {}
    if limiter.get("lease_calls") is not None and sides["deluge_ray"]["mock"]["requests"]:
        sides["deluge_ray"]["limiter_calls_per_request"] = round(
            limiter["lease_calls"] / sides["deluge_ray"]["mock"]["requests"], 4
        )
    sides["lm_deluge"] = run_side("lm_deluge", n_each, LIMIT_RPM // DRIVERS, {}, 600 + 4 * duration)
    embedded = run_embedded(duration)
    plot = C.plot_rates(
        "shared_limit",
        f"{DRIVERS} drivers, one key, limit {LIMIT_RPM} RPM in 1 s windows (combined)",
        {LABELS[s]: r["series"] for s, r in sides.items()},
        LIMIT_RPS,
    )
    report = {
        "benchmark": "shared_limit",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "drivers": DRIVERS,
            "limit_rpm": LIMIT_RPM,
            "latency_ms": LATENCY_MS,
            "prompts_per_driver": n_each,
            "target_duration_s": duration,
            "deluge_ray_rpm_per_driver": LIMIT_RPM,
            "lm_deluge_rpm_per_driver": LIMIT_RPM // DRIVERS,
            "ramp_seconds_excluded": C.RAMP_SECONDS,
            "tail_seconds_excluded": C.TAIL_SECONDS,
        },
        "plot": str(plot.relative_to(C.BENCH_DIR)) if plot else None,
        "sides": sides,
        "embedded": embedded,
    }
    C.write_json("shared_limit", report)
    return report


def _yes(met: bool) -> str:
    return "yes" if met else "**no**"


def _embedded_markdown(report: dict[str, Any]) -> list[str]:
    emb = report.get("embedded")
    if not emb:
        return []
    dr, lm, cfg = emb["sides"]["deluge_ray"], emb["sides"]["lm_deluge"], emb["config"]
    total = cfg["prompts_per_driver"] * cfg["drivers"]
    rows = [
        *C.limit_rows(dr, lm, scope="combined ", target=">= 95%"),
        [
            "% of requests answered 429 (target <= 1%)",
            dr["mock"]["pct_429"],
            lm["mock"]["pct_429"],
            "",
        ],
        [f"prompts failed (of {total})", dr["failed"], lm["failed"], ""],
        [
            "per-driver batch time (s)",
            " / ".join(f"{t:.1f}" for t in dr["driver_batch_s"]),
            " / ".join(f"{t:.1f}" for t in lm["driver_batch_s"]),
            "",
        ],
    ]
    targets = [
        [
            "combined steady state >= 95% of the limit",
            dr["steady_pct_of_limit"],
            _yes(dr["steady_pct_of_limit"] >= 95),
        ],
        ["<= 1% of requests answered 429", dr["mock"]["pct_429"], _yes(dr["mock"]["pct_429"] <= 1)],
    ]
    return [
        "",
        f"**Two embedded processes, nothing configured.** {cfg['drivers']} driver processes "
        "with no address and no `RAY_ADDRESS` (the default: the first starts this machine's "
        "local Ray head, both join it), started together, "
        f"{cfg['prompts_per_driver']:,} prompts each, each configured with the full "
        f"{cfg['deluge_ray_rpm_per_driver']:,} RPM; lm-deluge processes each given half "
        f"({cfg['lm_deluge_rpm_per_driver']:,} RPM). Same mock limit and latency as above.",
        "",
        C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
        "",
        C.md_table(["target (deluge_ray)", "measured", "met"], targets),
        *C.side_notes(dr, lm),
    ]


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    total = cfg["prompts_per_driver"] * cfg["drivers"]
    rows = [
        *C.limit_rows(dr, lm, scope="combined ", target=">= 95%"),
        [
            "% of requests answered 429 (target <= 1%)",
            dr["mock"]["pct_429"],
            lm["mock"]["pct_429"],
            "",
        ],
        ["429s sent by the mock", dr["mock"]["rate_limited"], lm["mock"]["rate_limited"], ""],
        [f"prompts failed (of {total})", dr["failed"], lm["failed"], ""],
        ["combined batch wall time (s)", dr["batch_s"], lm["batch_s"], ""],
        [
            "per-driver batch time (s)",
            " / ".join(f"{t:.1f}" for t in dr["driver_batch_s"]),
            " / ".join(f"{t:.1f}" for t in lm["driver_batch_s"]),
            "",
        ],
        [
            "RateLimiter calls per request",
            C.per_request(dr.get("limiter_calls_per_request")),
            "n/a (in-process)",
            "",
        ],
    ]
    lines = [
        "## 2. Three drivers sharing one limit",
        "",
        f"{cfg['drivers']} driver processes released together, {cfg['prompts_per_driver']:,} "
        f"distinct prompts each, one API key, one mock limiting it to {cfg['limit_rpm']:,} RPM "
        f"over 1 s windows, {cfg['latency_ms']} ms latency. deluge_ray drivers join one Ray "
        "cluster and share the named RateLimiter actor of that key, each configured with the "
        f"full {cfg['deluge_ray_rpm_per_driver']:,} RPM. lm-deluge has no way to share a "
        f"limiter between processes, so each driver gets a third "
        f"({cfg['lm_deluge_rpm_per_driver']:,} RPM), the best static split a user could "
        "choose (the full limit each would only triple the demand).",
        "",
        C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
    ]
    if report.get("plot"):
        lines += ["", f"![shared limit]({report['plot']})"]
    lines += C.side_notes(dr, lm)
    lines += _embedded_markdown(report)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 s instead of 60 s")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    main()
