"""Many jobs on one key: a saturating batch job beside an interactive one, and a budget.

Run:  python benchmarks/bench_tenants.py [--quick]

The mock provider (its own process) enforces 3,000 RPM over one-second windows and answers
after 200 ms. Two driver processes use the same key at once, released together by a file
barrier after each has sent a warm-up prompt:

* a *batch* driver with ``50 * duration`` prompts (duration 60 s, quick 12 s): more than
  the key serves in the interactive window, so it saturates the key throughout;
* an *interactive* driver sending one prompt per second, from 3 s after the release until
  3 s before the end of the duration, each timed from the call to its answer.

Three runs side by side:

* deluge_ray with priorities: both drivers join one Ray cluster (started here) and lease
  from the key's RateLimiter, the batch job with ``priority="batch"``, the interactive one
  with ``priority="interactive"``; both configured with the full 3,000 RPM;
* deluge_ray without priorities: the same, both ``"default"``;
* lm-deluge: each process has its own limiter, so the limit is split statically: the
  interactive driver gets 60 RPM (exactly its one prompt per second) and the batch driver
  the other 2,940 RPM.

Figures: the interactive latencies (p50, p99, against the mock's 200 ms), the combined
served rate over the interactive window's whole seconds as a share of the limit (from the
mock's counters), and the 429s the mock sent.

The budget run: one deluge_ray driver with ``budget_usd=X`` sends more prompts than X pays
for (``max_new_tokens=100``; X is 25 (quick: 8) times one prompt's worst-case cost, and
the job has 40 times that many prompts).
What it spent is counted on the mock's usage (its input and output token counts at the
model's prices) and compared with X; "one lease" is the worst-case cost of one lease
block of the key (``RateLimiter`` block size times one prompt's worst case). lm-deluge has
no budget: it sends every prompt.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LIMIT_RPM = 3000
LIMIT_RPS = LIMIT_RPM / 60
LATENCY_MS = 200
INTERACTIVE_RPM = 60  # lm-deluge's static split: one prompt per second for the notebook
WINDOW_MARGIN_S = 3.0  # the interactive driver starts this long after the release and
# stops this long before the end, so its window lies inside the batch's saturation
BUDGET_MAX_NEW_TOKENS = 100


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _wait_for_go(params: dict[str, Any]) -> float:
    """Touch the ready file, wait for the go file; returns the release time (unix)."""
    Path(params["ready_file"]).touch()
    deadline = time.time() + 600
    go = Path(params["go_file"])
    while not go.exists():
        if time.time() > deadline:
            raise RuntimeError("no go signal from the orchestrator")
        time.sleep(0.01)
    return float(go.read_text() or time.time())


# ---------------------------------------------------------------------------- workers
def _deluge_ray_client(params: dict[str, Any], rpm: int, **kwargs: Any) -> Any:
    import os

    os.environ["OPENAI_API_KEY"] = params["api_key"]
    return C.deluge_ray_client(
        params["base_url"],
        max_requests_per_minute=rpm,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        **kwargs,
    )


def dr_batch(params: dict[str, Any]) -> dict[str, Any]:
    client = _deluge_ray_client(params, params["rpm"], priority=params["priority"], name="batch")
    client.process_prompts_sync(["warm-up batch"], show_progress=False)
    C.wait_for_callers(client)
    _wait_for_go(params)
    start = time.time()
    responses = client.process_prompts_sync(C.prompts(params["n"], "batch"), show_progress=False)
    end = time.time()
    out = {"batch_start": start, "batch_end": end, **C.response_summary(responses)}
    out["limiter"] = C.limiter_stats(client)
    client.shutdown()
    return out


async def _interactive_loop(send, released: float, params: dict[str, Any]) -> dict[str, Any]:
    """One prompt per second in the window; each timed from the call to its answer."""
    latencies: list[float] = []
    failed: list[str] = []

    async def one(i: int) -> None:
        t0 = time.perf_counter()
        response = await send(f"[interactive-{i}] Reply with one short sentence about {i}.")
        if response is None or response.is_error:
            failed.append((getattr(response, "error_message", None) or "None")[:200])
        else:
            latencies.append(time.perf_counter() - t0)

    first = released + WINDOW_MARGIN_S
    last = released + params["duration"] - WINDOW_MARGIN_S
    await asyncio.sleep(max(0.0, first - time.time()))
    window_start = time.time()
    tasks, i = [], 0
    while time.time() < last:
        tasks.append(asyncio.ensure_future(one(i)))
        i += 1
        await asyncio.sleep(max(0.0, first + i - time.time()))
    await asyncio.gather(*tasks)
    return {
        "window_start": window_start,
        "window_end": time.time(),
        "sent": i,
        "latencies_s": [round(x, 4) for x in latencies],
        "failed": len(failed),
        "first_error": failed[0] if failed else None,
    }


def dr_interactive(params: dict[str, Any]) -> dict[str, Any]:
    client = _deluge_ray_client(
        params, params["rpm"], priority=params["priority"], name="interactive"
    )
    client.process_prompts_sync(["warm-up interactive"], show_progress=False)
    C.wait_for_callers(client)
    released = _wait_for_go(params)

    async def send(prompt: str) -> Any:
        return (await client.process_prompts_async([prompt], show_progress=False))[0]

    out = asyncio.run(_interactive_loop(send, released, params))
    client.shutdown()
    return out


def _lm_client(params: dict[str, Any], rpm: int, **kwargs: Any) -> Any:
    import os

    os.environ["OPENAI_API_KEY"] = params["api_key"]
    return C.lm_deluge_client(
        params["base_url"],
        max_requests_per_minute=rpm,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        **kwargs,
    )


def lm_batch(params: dict[str, Any]) -> dict[str, Any]:
    client = _lm_client(params, params["rpm"])

    async def main() -> dict[str, Any]:
        await client.process_prompts_async(["warm-up batch"], show_progress=False)
        _wait_for_go(params)
        start = time.time()
        responses = await client.process_prompts_async(
            C.prompts(params["n"], "batch"), show_progress=False
        )
        return {"batch_start": start, "batch_end": time.time(), **C.response_summary(responses)}

    return asyncio.run(main())


def lm_interactive(params: dict[str, Any]) -> dict[str, Any]:
    client = _lm_client(params, params["rpm"])

    async def main() -> dict[str, Any]:
        await client.process_prompts_async(["warm-up interactive"], show_progress=False)
        released = _wait_for_go(params)

        async def send(prompt: str) -> Any:
            return (await client.process_prompts_async([prompt], show_progress=False))[0]

        return await _interactive_loop(send, released, params)

    return asyncio.run(main())


def dr_budget(params: dict[str, Any]) -> dict[str, Any]:
    from deluge_ray.models import get_model
    from deluge_ray.prompt import Conversation
    from deluge_ray.ratelimit._budget import worst_case_cost

    prompts = C.prompts(params["n"], "budget")
    # The budget: a number of worst cases of the longest prompt (prompt + max_new_tokens).
    tokens = max(Conversation().user(p).count_tokens(BUDGET_MAX_NEW_TOKENS) for p in prompts)
    one_prompt_worst = worst_case_cost(get_model(C.MODEL), tokens)
    budget = params["worst_cases"] * one_prompt_worst
    client = _deluge_ray_client(
        params, LIMIT_RPM, budget_usd=budget, max_new_tokens=BUDGET_MAX_NEW_TOKENS
    )
    start = time.time()
    responses = client.process_prompts_sync(prompts, show_progress=False)
    end = time.time()
    stopped = [r for r in responses if r.is_error and "budget_usd" in (r.error_message or "")]
    done = [r for r in responses if not r.is_error]
    out = {
        "budget_usd": budget,
        "batch_s": round(end - start, 2),
        "done": len(done),
        "stopped_by_budget": len(stopped),
        "first_stop_message": stopped[0].error_message if stopped else None,
        "client_reported_cost": sum(r.cost or 0.0 for r in done),
        "one_prompt_worst_case_usd": one_prompt_worst,
        **C.response_summary(responses),
    }
    client.shutdown()
    return out


SIDES = {
    "dr_batch": dr_batch,
    "dr_interactive": dr_interactive,
    "lm_batch": lm_batch,
    "lm_interactive": lm_interactive,
    "dr_budget": dr_budget,
}


# ---------------------------------------------------------------------------- orchestrator
def _start_ray() -> tuple[Any, str]:
    import ray

    ray.init(
        namespace="deluge_ray",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    return ray, ray.get_runtime_context().gcs_address


def run_pair(kind: str, duration: float, env: dict[str, str], priorities: bool) -> dict[str, Any]:
    """A batch and an interactive driver of ``kind`` (``dr``/``lm``) on one fresh mock."""
    barrier = Path(tempfile.mkdtemp(prefix="bench-tenants-"))
    api_key = f"bench-tenants-{uuid.uuid4().hex[:12]}"  # a limiter of its own per run
    n_batch = int(LIMIT_RPS * duration)
    label = f"{kind}-{'prio' if priorities else 'flat'}"
    workers: list[C.Worker] = []
    try:
        with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
            common = {"base_url": mock.openai_base_url, "api_key": api_key}
            batch_params = {
                **common,
                "n": n_batch,
                "rpm": LIMIT_RPM - INTERACTIVE_RPM if kind == "lm" else LIMIT_RPM,
                "priority": "batch" if priorities else "default",
            }
            inter_params = {
                **common,
                "duration": duration,
                "rpm": INTERACTIVE_RPM if kind == "lm" else LIMIT_RPM,
                "priority": "interactive" if priorities else "default",
            }
            for role, params in (("batch", batch_params), ("interactive", inter_params)):
                params["ready_file"] = str(barrier / f"ready-{role}")
                params["go_file"] = str(barrier / "go")
                workers.append(
                    C.Worker(
                        __file__,
                        f"{kind}_{role}",
                        params,
                        env=env,
                        label=f"tenants-{label}-{role}",
                        sample_memory=False,
                    )
                )
            deadline = time.time() + 900
            while not all((barrier / f"ready-{r}").exists() for r in ("batch", "interactive")):
                if any(w.proc.poll() is not None for w in workers):
                    break  # a driver died during warm-up; wait() below reports its log
                if time.time() > deadline:
                    raise RuntimeError("drivers did not get ready within 15 minutes")
                time.sleep(0.05)
            (barrier / "go").write_text(repr(time.time()))
            batch, inter = (w.wait(600 + 4 * duration) for w in workers)
            stats = mock.stats()
    finally:
        for w in workers:
            if w.proc.poll() is None:
                w.kill()
        shutil.rmtree(barrier, ignore_errors=True)
    lat = inter["latencies_s"]
    series = C.second_series(stats, inter["window_start"], inter["window_end"])
    whole = series[1:-1]  # whole seconds of the interactive window only
    served = [row["accepted"] for row in whole]
    return {
        "batch": batch,
        "interactive": inter,
        "interactive_answered": len(lat),
        "interactive_p50_ms": round(1000 * statistics.median(lat), 1) if lat else None,
        "interactive_p99_ms": round(1000 * _percentile(lat, 0.99), 1) if lat else None,
        "interactive_max_ms": round(1000 * max(lat), 1) if lat else None,
        "combined_pct_of_limit": round(100.0 * statistics.mean(served) / LIMIT_RPS, 1)
        if served
        else None,
        "window_seconds": len(served),
        "rate_limited": stats["rate_limited"],
        "mock_requests": stats["requests"],
        "series": series,
    }


def _price(model_id: str) -> tuple[float, float]:
    from deluge_ray.models import get_model

    model = get_model(model_id)
    return model.input_cost, model.output_cost


def lease_block(rpm: int) -> int:
    """Requests in one lease of a ``rpm`` key, by the RateLimiter's block rule and defaults."""
    import inspect
    import math

    from deluge_ray.ratelimit._core import LimiterCore

    defaults = {name: p.default for name, p in inspect.signature(LimiterCore).parameters.items()}
    rate = rpm / 60
    units = max(
        rate * defaults["lease_seconds"],
        min(defaults["min_lease_requests"], rate * defaults["max_lease_seconds"]),
    )
    return max(1, math.floor(units))


def run_budget(quick: bool, address: str) -> dict[str, Any]:
    """One deluge_ray driver with a budget of a number of worst cases; spend from the mock."""
    in_price, out_price = _price(C.MODEL)
    worst_cases = 8 if quick else 25
    prompts = 40 * worst_cases  # several times what the budget pays for
    with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
        before = mock.stats()
        result = C.run_worker(
            __file__,
            "dr_budget",
            {
                "base_url": mock.openai_base_url,
                "api_key": f"bench-budget-{uuid.uuid4().hex[:12]}",
                "worst_cases": worst_cases,
                "n": prompts,
            },
            env={"RAY_ADDRESS": address},
            label="tenants-budget",
        )
        after = mock.stats()
    budget = result["budget_usd"]
    tokens_in = after["tokens_in"] - before["tokens_in"]
    tokens_out = after["tokens_out"] - before["tokens_out"]
    spent = (tokens_in * in_price + tokens_out * out_price) / 1e6
    block = lease_block(LIMIT_RPM)
    one_lease = block * result["one_prompt_worst_case_usd"]
    return {
        "budget_usd": budget,
        "budget_in_worst_cases": worst_cases,
        "prompts": prompts,
        "mock_requests": after["requests"] - before["requests"],
        "mock_tokens_in": tokens_in,
        "mock_tokens_out": tokens_out,
        "spent_on_mock_usd": round(spent, 8),
        "spent_pct_of_budget": round(100.0 * spent / budget, 2),
        "lease_block_requests": block,
        "one_lease_usd": round(one_lease, 8) if one_lease else None,
        "gap_usd": round(budget - spent, 8),
        "within_one_lease": bool(one_lease) and 0 <= budget - spent <= one_lease,
        "price_per_million": {"input": in_price, "output": out_price},
        **{k: v for k, v in result.items() if k not in ("prompts",)},
    }


def run(quick: bool = False) -> dict[str, Any]:
    duration = 12 if quick else 60
    machine = C.machine_info()  # the load average before the run, as the table says
    ray, address = _start_ray()
    try:
        env = {"RAY_ADDRESS": address}
        with_prio = run_pair("dr", duration, env, priorities=True)
        without = run_pair("dr", duration, env, priorities=False)
        budget = run_budget(quick, address)
    finally:
        ray.shutdown()
    lm = run_pair("lm", duration, {}, priorities=False)
    sides = {"deluge_ray": with_prio, "deluge_ray_no_priorities": without, "lm_deluge": lm}
    plot = C.plot_rates(
        "tenants",
        f"Batch + interactive drivers, one key, limit {LIMIT_RPM} RPM in 1 s windows",
        {
            "deluge_ray (priorities)": with_prio["series"],
            "deluge_ray (no priorities)": without["series"],
            "lm-deluge (static split)": lm["series"],
        },
        LIMIT_RPS,
    )
    report = {
        "benchmark": "tenants",
        "quick": quick,
        "machine": machine,
        "config": {
            "limit_rpm": LIMIT_RPM,
            "burst_seconds": 1.0,
            "latency_ms": LATENCY_MS,
            "duration_s": duration,
            "batch_prompts": int(LIMIT_RPS * duration),
            "window_margin_s": WINDOW_MARGIN_S,
            "lm_deluge_split_rpm": {
                "batch": LIMIT_RPM - INTERACTIVE_RPM,
                "interactive": INTERACTIVE_RPM,
            },
        },
        "plot": str(plot.relative_to(C.BENCH_DIR)) if plot else None,
        "sides": sides,
        "budget": budget,
    }
    C.write_json("tenants", report)
    return report


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "no")


def markdown(report: dict[str, Any]) -> str:
    sides, cfg, bud = report["sides"], report["config"], report["budget"]
    dr, flat, lm = sides["deluge_ray"], sides["deluge_ray_no_priorities"], sides["lm_deluge"]

    def row(label: str, key: str) -> list[Any]:
        return [label, dr[key], flat[key], lm[key], C.ratio(dr[key], lm[key])]

    rows = [
        row("interactive p50 (ms)", "interactive_p50_ms"),
        row("interactive p99 (ms)", "interactive_p99_ms"),
        row("interactive max (ms)", "interactive_max_ms"),
        [
            "interactive answered / sent",
            f"{dr['interactive_answered']}/{dr['interactive']['sent']}",
            f"{flat['interactive_answered']}/{flat['interactive']['sent']}",
            f"{lm['interactive_answered']}/{lm['interactive']['sent']}",
            "",
        ],
        row("combined served, % of limit", "combined_pct_of_limit"),
        row("429s sent by the mock", "rate_limited"),
        [
            "batch prompts failed",
            dr["batch"]["failed"],
            flat["batch"]["failed"],
            lm["batch"]["failed"],
            "",
        ],
    ]
    p50, p99, pct = dr["interactive_p50_ms"], dr["interactive_p99_ms"], dr["combined_pct_of_limit"]
    lat = cfg["latency_ms"]
    targets = [
        ["interactive p50 <= 1.5 x latency", f"{p50} ms", f"{1.5 * lat:.0f} ms",
         _met(None if p50 is None else p50 <= 1.5 * lat)],
        ["interactive p99 <= 3 x latency", f"{p99} ms", f"{3 * lat:.0f} ms",
         _met(None if p99 is None else p99 <= 3 * lat)],
        ["combined >= 97% of the limit", f"{pct}%", "97%",
         _met(None if pct is None else pct >= 97)],
        ["0 x 429", dr["rate_limited"], 0, _met(dr["rate_limited"] == 0)],
        ["budget: stops within one lease of $X", f"${bud['gap_usd']:.6f} under",
         f"<= ${bud['one_lease_usd'] or 0:.6f}", _met(bud["within_one_lease"])],
    ]  # fmt: skip
    budget_rows = [
        [f"budget X (USD; {bud['budget_in_worst_cases']} worst cases of one prompt)",
         f"{bud['budget_usd']:.6f}"],
        ["spent, counted on the mock's tokens (USD)", f"{bud['spent_on_mock_usd']:.6f}"],
        ["spent, % of X", bud["spent_pct_of_budget"]],
        ["one prompt at worst case (USD)", f"{bud['one_prompt_worst_case_usd']:.6f}"],
        [f"one lease ({bud['lease_block_requests']} requests) at worst case (USD)",
         f"{bud['one_lease_usd'] or 0:.6f}"],
        ["prompts sent / stopped by the budget / asked", f"{bud['done']} / "
         f"{bud['stopped_by_budget']} / {bud['prompts']}"],
        ["requests the mock received", bud["mock_requests"]],
        ["wall time (s)", bud["batch_s"]],
    ]  # fmt: skip
    split = cfg["lm_deluge_split_rpm"]
    lines = [
        "## Many jobs on one key: priorities and budgets",
        "",
        f"Two driver processes on one key: a batch job of {cfg['batch_prompts']:,} prompts "
        f"saturating a {cfg['limit_rpm']:,} RPM limit (1 s windows, {lat} ms latency) and an "
        "interactive job sending one prompt per second, from "
        f"{cfg['window_margin_s']:.0f} s after the release to "
        f"{cfg['window_margin_s']:.0f} s before its end ({cfg['duration_s']} s). deluge_ray "
        "drivers share one Ray cluster and the key's RateLimiter (each configured with the "
        f"full limit); lm-deluge has a static split: {split['batch']:,} RPM batch, "
        f"{split['interactive']} RPM interactive. Combined = requests the mock served per "
        "whole second of the interactive window. Ratio: deluge_ray with priorities over "
        f"lm-deluge. Load average at the start: {report['machine']['load_average_1m']}.",
        "",
        C.md_table(
            ["", "deluge_ray (priorities)", "deluge_ray (none)", "lm-deluge (split)", "ratio"],
            rows,
        ),
        "",
        "Budget: one deluge_ray driver given `budget_usd=X` (max_new_tokens=100), more "
        "prompts than X pays for; spend counted on the mock's token counts at the model's "
        f"prices (${bud['price_per_million']['input']}/M in, "
        f"${bud['price_per_million']['output']}/M out). lm-deluge has no budget (it sends "
        "every prompt).",
        "",
        C.md_table(["", "deluge_ray"], budget_rows),
        "",
        C.md_table(["target (deluge_ray, priorities)", "measured", "target", "met"], targets),
    ]
    if report.get("plot"):
        lines += ["", f"![tenants]({report['plot']})"]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 s instead of 60 s")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
