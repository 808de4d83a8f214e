"""Client overhead: requests/s with no rate limit and no provider latency.

Run:  python benchmarks/bench_overhead.py [--quick] [--prompts N]

The mock provider (its own process) has no limits and answers at once, so the only thing
between a prompt and its response is the client (and the mock itself: see the mock
throughput benchmark for its ceiling on this machine). Each client, in its own worker
process, is configured with limits far above reach (``_common.NO_LIMIT_RPM`` = 10,000,000
RPM, 10G TPM) and the default 225 concurrent requests, sends one warm-up prompt (Ray
start-up and the first caller's creation for deluge_ray, excluded), then at once ``N``
distinct prompts in one ``process_prompts`` call (20,000; quick 5,000). Throughput is ``N``
divided by that call's wall time. deluge_ray's default pool adds its second caller when
the warm-up's answer comes back; the batch does not wait for it (issue 15: measured from
the first prompt sent, as a user would not wait), so that caller's start falls inside it.

Also recorded: the driver process's CPU seconds during the batch (deluge_ray's HTTP work
happens in ProviderCaller actors, other processes, so its driver CPU is not the whole
cost: the whole machine's CPU is bounded by the 2 cores either way) and the driver's peak
RSS.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

CONCURRENCY = 225  # both clients' default
LABELS = {"deluge_ray": "deluge_ray", "lm_deluge": "lm-deluge"}


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _finish(
    out: dict[str, Any],
    params: dict[str, Any],
    start: float,
    cpu0: float,
    tracker: C.CpuTracker,
    responses: Any,
) -> None:
    elapsed = time.perf_counter() - start
    n = params["n"]
    spent = tracker.stop()
    out.update(
        {
            "batch_s": round(elapsed, 3),
            "requests_per_s": round(n / elapsed, 1),
            "driver_cpu_s": round(_cpu_seconds() - cpu0, 2),
            "cpu_by_process_s": spent,
            "cpu_total_s": round(sum(spent.values()), 2),
            # The CPU criterion: what the client costs, the provider (mock) aside.
            "cpu_us_per_request_but_mock": round(
                1e6 * sum(v for k, v in spent.items() if k != "mock") / n, 1
            )
            if spent
            else None,
            **C.response_summary(responses),
        }
    )


def deluge_ray_side(params: dict[str, Any]) -> dict[str, Any]:
    client = C.deluge_ray_client(
        params["base_url"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=CONCURRENCY,
    )
    t0 = time.perf_counter()
    client.process_prompts_sync(["warm-up"], show_progress=False)
    out: dict[str, Any] = {
        "warmup_s": round(time.perf_counter() - t0, 2),
        "driver_rss_after_warmup_mb": C.peak_rss_mb_self(),
    }
    batch = C.prompts(params["n"], "bulk")
    tracker = C.CpuTracker(C.cpu_roots(params))
    tracker.start()
    cpu0, start = _cpu_seconds(), time.perf_counter()
    responses = client.process_prompts_sync(batch, show_progress=False)
    _finish(out, params, start, cpu0, tracker, responses)
    del responses
    out["limiter"] = C.limiter_stats(client)
    client.shutdown()
    return out


def lm_deluge_side(params: dict[str, Any]) -> dict[str, Any]:
    client = C.lm_deluge_client(
        params["base_url"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=CONCURRENCY,
    )

    async def main() -> dict[str, Any]:
        t0 = time.perf_counter()
        await client.process_prompts_async(["warm-up"], show_progress=False)
        out: dict[str, Any] = {
            "warmup_s": round(time.perf_counter() - t0, 2),
            "driver_rss_after_warmup_mb": C.peak_rss_mb_self(),
        }
        batch = C.prompts(params["n"], "bulk")
        tracker = C.CpuTracker(C.cpu_roots(params))
        tracker.start()
        cpu0, start = _cpu_seconds(), time.perf_counter()
        responses = await client.process_prompts_async(batch, show_progress=False)
        _finish(out, params, start, cpu0, tracker, responses)
        return out

    return asyncio.run(main())


SIDES = {"deluge_ray": deluge_ray_side, "lm_deluge": lm_deluge_side}


def run_bulk(name: str, n: int) -> dict[str, Any]:
    """Both sides against a fresh unlimited, zero-latency mock each; returns {side: result}."""
    sides = {}
    for side in SIDES:
        with C.MockServer() as mock:
            params = {"base_url": mock.openai_base_url, "n": n, "mock_pid": mock.pid}
            result = C.run_worker(
                __file__, side, params, label=f"{name}-{side}", timeout=300 + n / 20
            )
            stats = mock.stats()
        result["mock"] = {
            "requests": stats["requests"],
            "peak_concurrency": stats["peak_concurrency"],
            "by_status": stats["by_status"],
        }
        sides[side] = result
    return sides


def run(quick: bool = False, prompts: int | None = None) -> dict[str, Any]:
    n = prompts or (5_000 if quick else 20_000)
    report = {
        "benchmark": "overhead",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "prompts": n,
            "concurrency": CONCURRENCY,
            "latency_ms": 0,
            "client_rpm": C.NO_LIMIT_RPM,
            "client_tpm": C.NO_LIMIT_TPM,
        },
        "sides": run_bulk("overhead", n),
    }
    C.write_json("overhead", report)
    return report


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    rows = [
        [
            "throughput (requests/s, higher is better)",
            dr["requests_per_s"],
            lm["requests_per_s"],
            C.ratio(dr["requests_per_s"], lm["requests_per_s"]),
        ],
        [
            "batch wall time (s)",
            dr["batch_s"],
            lm["batch_s"],
            C.ratio(dr["batch_s"], lm["batch_s"]),
        ],
        ["driver CPU during the batch (s)", dr["driver_cpu_s"], lm["driver_cpu_s"], ""],
        [
            "CPU of every process incl. the mock (s)",
            dr.get("cpu_total_s"),
            lm.get("cpu_total_s"),
            C.ratio(dr.get("cpu_total_s"), lm.get("cpu_total_s")),
        ],
        [
            "CPU per request, every process but the mock (µs)",
            dr.get("cpu_us_per_request_but_mock"),
            lm.get("cpu_us_per_request_but_mock"),
            C.ratio(dr.get("cpu_us_per_request_but_mock"), lm.get("cpu_us_per_request_but_mock")),
        ],
        [f"prompts failed (of {cfg['prompts']})", dr["failed"], lm["failed"], ""],
        ["warm-up call (s, not in the batch)", dr["warmup_s"], lm["warmup_s"], ""],
        ["driver peak RSS (MiB)", dr["driver_peak_rss_mb"], lm["driver_peak_rss_mb"], ""],
    ]
    lines = [
        "## 3. Overhead with no limit and no latency",
        "",
        f"{cfg['prompts']:,} distinct prompts in one call after a one-prompt warm-up "
        "(deluge_ray's pool adds its second caller after that answer; the batch does not "
        "wait for it, as a user would not); the "
        "mock has no limit and no latency; both clients get limits out of reach "
        f"({cfg['client_rpm']:,} RPM; why this value: `_common.NO_LIMIT_RPM`) and "
        f"{cfg['concurrency']} concurrent requests. The "
        "driver CPU excludes deluge_ray's actors (other processes on the same cores); the "
        "table below the first splits the CPU of the batch by process, the mock included.",
        "",
        C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
    ]
    breakdown = C.cpu_breakdown_table(dr, lm, cfg["prompts"], "requests")
    if breakdown:
        lines += ["", breakdown]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 prompts instead of 20,000")
    parser.add_argument("--prompts", type=int, default=None, help="override the prompt count")
    args = parser.parse_args()
    print(markdown(run(args.quick, args.prompts)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
