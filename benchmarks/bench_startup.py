"""Start-up and per-request latency: the cost of Ray for one prompt, cold and warm.

Run:  python benchmarks/bench_startup.py [--quick]

The mock provider (its own process) has no limit and answers after a fixed 50 ms. Every
measurement below is a fresh worker process, so "cold" really means cold (only the OS
file cache is warm: the first repetition pays for reading the libraries from disk):

* ``ray_init``: ``import ray`` and then ``ray.init(...)`` with the options deluge_ray's
  embedded start uses (namespace, no dashboard, no log forwarding) -- the fair baseline,
  since a plain ``ray.init()`` would also start the dashboard. deluge_ray imports Ray
  inside its first call, so the baseline is import + init;
* ``deluge_ray``: ``import deluge_ray``, then ``LLMClient(...)`` and a single
  ``process_prompts_sync(["hi"])`` with Ray not yet started (Ray start-up, the limiter and
  a ProviderCaller actor, one request with its 50 ms);
* ``lm_deluge``: the same single call with lm-deluge (no runtime to start).

Cold measurements alternate ``ray_init`` / ``deluge_ray`` / ``lm_deluge`` for ``reps``
rounds (3, quick 1) and report medians; deluge_ray's *extra* start-up is its first call
minus Ray's import + init. One unmeasured ``ray_init`` process runs first, so that the
first measured process does not alone pay for reading Ray from disk. Then, in the same deluge_ray and lm-deluge processes, ``M`` sequential
single-prompt ``process_prompts_async`` calls (30, quick 10) with the client warm: the
per-request overhead is the median call time minus the mock's 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LATENCY_MS = 50
LIMIT_RPM = 3000  # a normal limit: one request at a time never comes near it


def _sequential(client: Any, count: int) -> list[float]:
    """Wall time (ms) of ``count`` sequential single-prompt calls, in one event loop."""

    async def main() -> list[float]:
        times = []
        for i in range(count):
            t0 = time.perf_counter()
            await client.process_prompts_async([f"warm request {i}"], show_progress=False)
            times.append((time.perf_counter() - t0) * 1000)
        return times

    return asyncio.run(main())


def _warm_summary(times: list[float]) -> dict[str, Any]:
    ordered = sorted(times)
    median = statistics.median(ordered)
    return {
        "warm_calls": len(times),
        "warm_median_ms": round(median, 1),
        "warm_p90_ms": round(ordered[int(0.9 * (len(ordered) - 1))], 1),
        "warm_overhead_ms": round(median - LATENCY_MS, 1),
        "warm_times_ms": [round(t, 1) for t in times],
    }


def ray_init_side(params: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import ray

    t1 = time.perf_counter()
    ray.init(
        namespace="deluge_ray",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    t2 = time.perf_counter()
    ray.shutdown()
    return {"import_s": round(t1 - t0, 3), "init_s": round(t2 - t1, 3)}


def deluge_ray_side(params: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import deluge_ray  # noqa: F401  (timed: the import is part of a user's first call)

    t1 = time.perf_counter()
    client = C.deluge_ray_client(
        params["base_url"], max_requests_per_minute=LIMIT_RPM, max_tokens_per_minute=C.NO_LIMIT_TPM
    )
    responses = client.process_prompts_sync(["hi"], show_progress=False)
    t2 = time.perf_counter()
    out = {
        "import_s": round(t1 - t0, 3),
        "first_call_s": round(t2 - t1, 3),
        **C.response_summary(responses),
    }
    if params.get("warm_calls"):
        out.update(_warm_summary(_sequential(client, params["warm_calls"])))
    client.shutdown()
    return out


def lm_deluge_side(params: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    import lm_deluge  # noqa: F401

    t1 = time.perf_counter()
    client = C.lm_deluge_client(
        params["base_url"], max_requests_per_minute=LIMIT_RPM, max_tokens_per_minute=C.NO_LIMIT_TPM
    )
    responses = client.process_prompts_sync(["hi"], show_progress=False)
    t2 = time.perf_counter()
    out = {
        "import_s": round(t1 - t0, 3),
        "first_call_s": round(t2 - t1, 3),
        **C.response_summary(responses),
    }
    if params.get("warm_calls"):
        out.update(_warm_summary(_sequential(client, params["warm_calls"])))
    return out


SIDES = {"ray_init": ray_init_side, "deluge_ray": deluge_ray_side, "lm_deluge": lm_deluge_side}


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def run(quick: bool = False) -> dict[str, Any]:
    reps = 1 if quick else 3
    warm_calls = 10 if quick else 30
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    with C.MockServer(latency_ms=LATENCY_MS) as mock:
        # Not measured: reads Ray's libraries into the OS file cache, so the first measured
        # process does not pay for the disk while the others do not.
        C.run_worker(__file__, "ray_init", {}, label="startup-priming", timeout=600)
        for rep in range(reps):
            last = rep == reps - 1
            for side in SIDES:
                params = {"base_url": mock.openai_base_url}
                if last and side != "ray_init":
                    params["warm_calls"] = warm_calls  # measured once, in the last round
                runs[side].append(
                    C.run_worker(__file__, side, params, label=f"startup-{side}-{rep}", timeout=600)
                )
    for row in runs["ray_init"]:
        row["import_and_init_s"] = round(row["import_s"] + row["init_s"], 3)
    summary = {
        "ray_import_and_init_s": _median(runs["ray_init"], "import_and_init_s"),
        "ray_init_s": _median(runs["ray_init"], "init_s"),
        "ray_import_s": _median(runs["ray_init"], "import_s"),
        "deluge_ray_first_call_s": _median(runs["deluge_ray"], "first_call_s"),
        "deluge_ray_import_s": _median(runs["deluge_ray"], "import_s"),
        "lm_deluge_first_call_s": _median(runs["lm_deluge"], "first_call_s"),
        "lm_deluge_import_s": _median(runs["lm_deluge"], "import_s"),
        "deluge_ray_warm_overhead_ms": runs["deluge_ray"][-1].get("warm_overhead_ms"),
        "deluge_ray_warm_median_ms": runs["deluge_ray"][-1].get("warm_median_ms"),
        "deluge_ray_warm_p90_ms": runs["deluge_ray"][-1].get("warm_p90_ms"),
        "lm_deluge_warm_overhead_ms": runs["lm_deluge"][-1].get("warm_overhead_ms"),
        "lm_deluge_warm_median_ms": runs["lm_deluge"][-1].get("warm_median_ms"),
        "lm_deluge_warm_p90_ms": runs["lm_deluge"][-1].get("warm_p90_ms"),
    }
    # deluge_ray imports Ray lazily, inside the first call: compare with import + init.
    first, base = summary["deluge_ray_first_call_s"], summary["ray_import_and_init_s"]
    if first is not None and base is not None:
        summary["deluge_ray_extra_over_ray_init_s"] = round(first - base, 3)
    report = {
        "benchmark": "startup",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {"latency_ms": LATENCY_MS, "reps": reps, "warm_calls": warm_calls},
        "summary": summary,
        "runs": runs,
    }
    C.write_json("startup", report)
    return report


def markdown(report: dict[str, Any]) -> str:
    s, cfg = report["summary"], report["config"]
    rows = [
        ["import (s)", s["deluge_ray_import_s"], s["lm_deluge_import_s"], ""],
        [
            'first `process_prompts_sync(["hi"])`, Ray not started (s)',
            s["deluge_ray_first_call_s"],
            s["lm_deluge_first_call_s"],
            C.ratio(s["deluge_ray_first_call_s"], s["lm_deluge_first_call_s"]),
        ],
        [
            "`import ray` + `ray.init()` alone, same options, same run (s)",
            s["ray_import_and_init_s"],
            "",
            "",
        ],
        [
            "extra over `ray.init()` (s, target <= 1.5)",
            s.get("deluge_ray_extra_over_ray_init_s"),
            "",
            "",
        ],
        [
            f"warm single request, median (ms; mock latency {cfg['latency_ms']})",
            s["deluge_ray_warm_median_ms"],
            s["lm_deluge_warm_median_ms"],
            C.ratio(s["deluge_ray_warm_median_ms"], s["lm_deluge_warm_median_ms"]),
        ],
        [
            "warm single request, p90 (ms)",
            s["deluge_ray_warm_p90_ms"],
            s["lm_deluge_warm_p90_ms"],
            "",
        ],
        [
            "warm per-request overhead over the mock (ms, target < 20)",
            s["deluge_ray_warm_overhead_ms"],
            s["lm_deluge_warm_overhead_ms"],
            "",
        ],
    ]
    return "\n".join(
        [
            "## 5. Start-up and per-request overhead",
            "",
            f"Each cold figure is the median of {cfg['reps']} fresh processes, alternating "
            "`ray.init` / deluge_ray / lm-deluge; the mock answers after "
            f"{cfg['latency_ms']} ms (included in the first call). `ray.init` uses the options "
            "of deluge_ray's embedded start (no dashboard). Warm: "
            f"{cfg['warm_calls']} sequential single-prompt `process_prompts_async` calls in "
            "the same process after the first; overhead = median - mock latency.",
            "",
            C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition instead of 3")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
