"""Saturation: how close each client runs to a per-second-quantized limit, and the 429s it earns.

Run:  python benchmarks/bench_saturation.py [--quick]

The mock provider (its own process) limits the key to 3,000 requests/minute enforced over
one-second windows (``Limits(rpm=3000)``, default ``burst_seconds=1``: at most ~50 requests
in any second) and answers after a fixed 200 ms. Each client, in its own worker process,
is configured with the same limits (3,000 RPM; token limit far out of the way; the
default 225 concurrent requests) and sent ``50 * duration`` distinct prompts at once
(duration 60 s, quick 15 s). One prompt is sent first as a warm-up (Ray start-up, actor
creation, including the caller deluge_ray's default pool adds after its first answer) and
is not part of the measured batch.

Figures, all from the mock's counters (the ground truth):

* steady-state served rate: requests the mock served (received minus 429s) per second,
  averaged over the batch's seconds except the first 3 (ramp-up) and the last 2 (drain),
  as a % of the limit;
* 429s the mock sent, and prompts the client finally reported as failed;
* for deluge_ray, RateLimiter actor calls per request (``lease_calls`` from the actor's
  ``stats()`` divided by requests the mock received).

Both clients keep their default retry policy (``max_attempts=5``).
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

LIMIT_RPM = 3000
LIMIT_RPS = LIMIT_RPM / 60
LATENCY_MS = 200
CONCURRENCY = 225  # both clients' default


# ---------------------------------------------------------------------------- workers
def _wait_for_go(params: dict[str, Any]) -> None:
    """The shared-limit benchmark starts several drivers together: a file-based barrier."""
    ready, go = params.get("ready_file"), params.get("go_file")
    if not ready:
        return
    Path(ready).touch()
    deadline = time.time() + 600
    while not Path(go).exists():
        if time.time() > deadline:
            raise RuntimeError("no go signal from the orchestrator")
        time.sleep(0.02)


def deluge_ray_side(params: dict[str, Any]) -> dict[str, Any]:
    client = C.deluge_ray_client(
        params["base_url"],
        max_requests_per_minute=params["rpm"],
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=CONCURRENCY,
    )
    t0 = time.perf_counter()
    client.process_prompts_sync(["warm-up"], show_progress=False)
    C.wait_for_callers(client)
    warmup_s = time.perf_counter() - t0
    _wait_for_go(params)
    batch = C.prompts(params["n"], params.get("tag", "sat"))
    start = time.time()
    responses = client.process_prompts_sync(batch, show_progress=False)
    end = time.time()
    out = {
        "batch_start": start,
        "batch_end": end,
        "warmup_s": round(warmup_s, 2),
        **C.response_summary(responses),
        "limiter": C.limiter_stats(client),
    }
    client.shutdown()
    return out


def lm_deluge_side(params: dict[str, Any]) -> dict[str, Any]:
    client = C.lm_deluge_client(
        params["base_url"],
        max_requests_per_minute=params["rpm"],
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=CONCURRENCY,
    )

    async def main() -> dict[str, Any]:
        t0 = time.perf_counter()
        await client.process_prompts_async(["warm-up"], show_progress=False)
        warmup_s = time.perf_counter() - t0
        _wait_for_go(params)
        batch = C.prompts(params["n"], params.get("tag", "sat"))
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
LABELS = {"deluge_ray": "deluge_ray", "lm_deluge": "lm-deluge"}


# ---------------------------------------------------------------------------- orchestrator
def mock_summary(stats: dict[str, Any]) -> dict[str, Any]:
    received = stats["requests"]
    return {
        "requests": received,
        "rate_limited": stats["rate_limited"],
        "pct_429": round(100.0 * stats["rate_limited"] / received, 2) if received else 0.0,
        "by_status": stats["by_status"],
        "peak_concurrency": stats["peak_concurrency"],
    }


def limiter_calls_per_request(side: dict[str, Any]) -> float | None:
    limiter = side.get("limiter") or {}
    calls = limiter.get("lease_calls")
    received = side["mock"]["requests"]
    if calls is None or not received:
        return None
    return round(calls / received, 4)


def run(quick: bool = False) -> dict[str, Any]:
    duration = 15 if quick else 60
    n = int(LIMIT_RPS * duration)
    sides: dict[str, Any] = {}
    for side in SIDES:
        with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
            params = {"base_url": mock.openai_base_url, "rpm": LIMIT_RPM, "n": n}
            result = C.run_worker(
                __file__, side, params, label=f"saturation-{side}", timeout=600 + 4 * duration
            )
            stats = mock.stats()
        result["mock"] = mock_summary(stats)
        result["series"] = C.second_series(stats, result["batch_start"], result["batch_end"])
        result.update(C.steady_state(result["series"], LIMIT_RPS))
        span = result["batch_end"] - result["batch_start"]
        served = sum(row["accepted"] for row in result["series"])
        result["batch_s"] = round(span, 2)
        result["whole_batch_pct_of_limit"] = round(100.0 * served / span / LIMIT_RPS, 1)
        if side == "deluge_ray":
            result["limiter_calls_per_request"] = limiter_calls_per_request(result)
        sides[side] = result
    plot = C.plot_rates(
        "saturation",
        f"One driver, limit {LIMIT_RPM} RPM in 1 s windows, {LATENCY_MS} ms latency",
        {LABELS[s]: r["series"] for s, r in sides.items()},
        LIMIT_RPS,
    )
    report = {
        "benchmark": "saturation",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "limit_rpm": LIMIT_RPM,
            "burst_seconds": 1.0,
            "latency_ms": LATENCY_MS,
            "prompts": n,
            "target_duration_s": duration,
            "concurrency": CONCURRENCY,
            "ramp_seconds_excluded": C.RAMP_SECONDS,
            "tail_seconds_excluded": C.TAIL_SECONDS,
        },
        "plot": str(plot.relative_to(C.BENCH_DIR)) if plot else None,
        "sides": sides,
    }
    C.write_json("saturation", report)
    return report


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    rows = [
        *C.limit_rows(dr, lm, scope="", target=">= 97%"),
        [
            "429s sent by the mock (target 0)",
            dr["mock"]["rate_limited"],
            lm["mock"]["rate_limited"],
            "",
        ],
        ["requests received by the mock", dr["mock"]["requests"], lm["mock"]["requests"], ""],
        [f"prompts failed (of {cfg['prompts']})", dr["failed"], lm["failed"], ""],
        [
            "batch wall time (s)",
            dr["batch_s"],
            lm["batch_s"],
            C.ratio(dr["batch_s"], lm["batch_s"]),
        ],
        ["warm-up call (s)", dr["warmup_s"], lm["warmup_s"], ""],
        [
            "RateLimiter calls per request (target <= 0.1)",
            C.per_request(dr.get("limiter_calls_per_request")),
            "n/a (in-process)",
            "",
        ],
    ]
    lines = [
        "## 1. Saturation under a per-second-quantized limit",
        "",
        f"One driver, {cfg['prompts']:,} distinct prompts at once; mock limit "
        f"{cfg['limit_rpm']:,} RPM enforced over 1 s windows, {cfg['latency_ms']} ms latency; "
        f"both clients configured with {cfg['limit_rpm']:,} RPM and {cfg['concurrency']} "
        "concurrent requests. Served = received minus 429s, from the mock's counters. "
        f"Steady state excludes the first {cfg['ramp_seconds_excluded']} s (ramp-up) and the "
        f"last {cfg['tail_seconds_excluded']} s (drain) of the batch.",
        "",
        C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
    ]
    if report.get("plot"):
        lines += ["", f"![saturation]({report['plot']})"]
    lines += C.side_notes(dr, lm)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="15 s instead of 60 s")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
