"""Agent loops: 1,000 concurrent loops of 3 tool rounds, and 10,000 of 2 -- wall, CPU, memory.

Run:  python benchmarks/bench_agents.py [--quick] [--loops N] [--scale-loops N]

The mock provider (its own process, no limit, 200 ms latency) is scripted so that every
model answers with a ``lookup`` tool call until its conversation holds 3 tool results and
then with a final text: each loop makes 4 model calls and runs 3 tools. The tool is a
trivial ``async`` function, so the time is the client's and the mock's.

Each client, in its own worker process, gets limits out of reach (``NO_LIMIT_RPM``),
1,000 concurrent requests and ``max_rounds=5``, sends one warm-up prompt and runs a
one-loop warm-up swarm (deluge_ray: on as many SubAgent actors as the timed swarm uses, so
their process start -- reported as ``subagent_start_s`` -- is not timed, as Ray's own start
and the callers' are not; the client keeps its actors between swarms), then runs ``N``
loops (1,000; quick 200) with at most ``N`` running at once:

* lm-deluge 0.0.168: ``LLMClient.process_agent_loops_async(prompts, tools=...,
  max_rounds=5, max_concurrent_agents=N)`` -- it exists in that version;
* deluge_ray: ``LLMClient.process_agent_loops_async`` (loops on SubAgent actors) when the
  client has it; otherwise ``run_agent_loop`` on the driver gathered with
  ``asyncio.gather``; when neither exists the side is recorded as not available.

The floor is 4 rounds x 200 ms = 0.8 s. Figures: wall time of the call, loops that
reached the final answer, model calls the mock received, CPU by process, driver peak RSS,
each SubAgent's peak RSS (the kernel's high-water mark) and the peak of the worker's whole
process tree (for deluge_ray: Ray, the SubAgent and caller actors).

A second scenario, *scale*, runs 10,000 loops of 2 tool rounds at once (quick: 1,000) the
same way, for completion and bounded memory. A full run takes about 3 minutes on a quiet
2-core machine (quick: about 1 minute).
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

TOOL_ROUNDS = 3
SCALE_TOOL_ROUNDS = 2
MAX_ROUNDS = 5
LATENCY_MS = 200
CONCURRENCY = 1000
FINAL_MARK = "Final answer"  # what the scripted mock says once the lookups are done


async def lookup(step: int) -> str:
    """Look up the fact needed at one step of the task."""
    return f"fact number {step}"


def _loop_prompts(n: int) -> list[str]:
    return [f"Task {i}: look things up three times, then answer." for i in range(n)]


def _summarise(results: list[Any], n: int) -> dict[str, Any]:
    finished = failed = 0
    first_error = None
    rounds = []
    for conv, resp in results:
        if resp is None or getattr(resp, "is_error", False):
            failed += 1
            if first_error is None:
                first_error = str(getattr(resp, "error_message", "None result"))[:300]
            continue
        if FINAL_MARK in (resp.completion or ""):
            finished += 1
        rounds.append(sum(1 for m in conv.messages if m.role == "assistant"))
    return {
        "loops": n,
        "finished": finished,
        "failed": failed,
        "first_error": first_error,
        "mean_model_calls_per_loop": round(sum(rounds) / len(rounds), 2) if rounds else None,
    }


def _subagent_peaks_mb() -> list[float]:
    """Each live SubAgent process's peak RSS (the kernel's high-water mark), in MiB."""
    import os

    from _procs import _process_label, _status_kb, _tree_pids

    peaks = []
    for pid in _tree_pids(os.getpid()):
        if "SubAgent" in _process_label(pid):
            kb = _status_kb(pid, "VmHWM")
            if kb:
                peaks.append(round(kb / 1024, 1))
    return sorted(peaks)


def deluge_ray_side(params: dict[str, Any]) -> dict[str, Any]:
    import ray

    from deluge_ray import LLMClient, Tool

    # A Ray of this worker's own: a bare ray.init() would join a `ray start` cluster on
    # the machine, whose actors are not this worker's children (their CPU goes uncounted).
    ray.init(address="local", namespace="deluge_ray", include_dashboard=False, log_to_driver=False)

    n = params["n"]
    swarm = getattr(LLMClient, "process_agent_loops_async", None)
    single = getattr(LLMClient, "run_agent_loop", None)
    if swarm is None and single is None:
        return {"available": False, "mode": "not available"}
    client = C.deluge_ray_client(
        params["base_url"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=CONCURRENCY,
    )
    tool = Tool.from_function(lookup)
    t0 = time.perf_counter()
    client.process_prompts_sync(["warm-up"], show_progress=False)
    # The callers the pool adds after the warm-up's answer would otherwise start inside
    # the timed swarm (they are idle in it: SubAgent actors make the model calls).
    C.wait_for_callers(client)
    warmup_s = time.perf_counter() - t0
    actors = None
    subagent_start_s = None
    if swarm is not None:
        # Like the callers, the SubAgent processes start outside the timed swarm: a
        # one-loop swarm on as many actors as the timed one uses; the client keeps them.
        from deluge_ray.agents._swarm import _cluster_cpus, _default_actors

        actors = _default_actors(n, n, _cluster_cpus())
        t0 = time.perf_counter()
        client.process_agent_loops_sync(
            _loop_prompts(1),
            tools=[tool],
            max_rounds=MAX_ROUNDS,
            num_actors=actors,
            show_progress=False,
        )
        subagent_start_s = time.perf_counter() - t0

    async def main() -> list[Any]:
        prompts = _loop_prompts(n)
        if swarm is not None:
            return await client.process_agent_loops_async(
                prompts,
                tools=[tool],
                max_rounds=MAX_ROUNDS,
                max_concurrent_agents=n,
                show_progress=False,
            )
        return await asyncio.gather(
            *(client.run_agent_loop(p, tools=[tool], max_rounds=MAX_ROUNDS) for p in prompts)
        )

    tracker = C.CpuTracker(C.cpu_roots(params))
    tracker.start()
    start = time.perf_counter()
    results = asyncio.run(main())
    wall = time.perf_counter() - start
    spent = tracker.stop()
    peaks = _subagent_peaks_mb()
    out = {
        "available": True,
        "subagent_peak_rss_mb": max(peaks) if peaks else None,
        "subagent_peaks_rss_mb": peaks,
        "mode": (
            "LLMClient.process_agent_loops_async (SubAgent actors)"
            if swarm is not None
            else "asyncio.gather of LLMClient.run_agent_loop (driver)"
        ),
        "warmup_s": round(warmup_s, 2),
        "subagent_actors": actors,
        "subagent_start_s": round(subagent_start_s, 2) if subagent_start_s else None,
        "wall_s": round(wall, 2),
        "cpu_by_process_s": spent,
        "cpu_total_s": round(sum(spent.values()), 2),
        **_summarise(list(results), n),
    }
    client.shutdown()
    return out


def lm_deluge_side(params: dict[str, Any]) -> dict[str, Any]:
    from lm_deluge import Tool

    n = params["n"]
    client = C.lm_deluge_client(
        params["base_url"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=CONCURRENCY,
    )
    tool = Tool.from_function(lookup)
    swarm = getattr(client, "process_agent_loops_async", None)

    async def main() -> dict[str, Any]:
        t0 = time.perf_counter()
        await client.process_prompts_async(["warm-up"], show_progress=False)
        if swarm is not None:  # the same warm-up swarm as deluge_ray's
            await swarm(_loop_prompts(1), tools=[tool], max_rounds=MAX_ROUNDS, show_progress=False)
        warmup_s = time.perf_counter() - t0
        prompts = _loop_prompts(n)
        tracker = C.CpuTracker(C.cpu_roots(params))
        tracker.start()
        start = time.perf_counter()
        if swarm is not None:
            results = await swarm(
                prompts,
                tools=[tool],
                max_rounds=MAX_ROUNDS,
                max_concurrent_agents=n,
                show_progress=False,
            )
            mode = "LLMClient.process_agent_loops_async"
        else:
            results = await asyncio.gather(
                *(client.run_agent_loop(p, tools=[tool], max_rounds=MAX_ROUNDS) for p in prompts)
            )
            mode = "asyncio.gather of LLMClient.run_agent_loop"
        wall = time.perf_counter() - start
        spent = tracker.stop()
        return {
            "available": True,
            "mode": mode,
            "warmup_s": round(warmup_s, 2),
            "wall_s": round(wall, 2),
            "cpu_by_process_s": spent,
            "cpu_total_s": round(sum(spent.values()), 2),
            **_summarise(list(results), n),
        }

    return asyncio.run(main())


SIDES = {"deluge_ray": deluge_ray_side, "lm_deluge": lm_deluge_side}


def _run_sides(n: int, tool_rounds: int, label: str) -> dict[str, Any]:
    sides: dict[str, Any] = {}
    for side in SIDES:
        with C.MockServer(latency_ms=LATENCY_MS, agent_tool_rounds=tool_rounds) as mock:
            params = {"base_url": mock.openai_base_url, "n": n, "mock_pid": mock.pid}
            try:
                result = C.run_worker(__file__, side, params, label=f"{label}-{side}", timeout=1200)
            except RuntimeError as exc:
                # A failing side is reported, not fatal: the other side's numbers still count.
                result = {"available": False, "mode": "failed", "error": str(exc)[-1500:]}
            stats = mock.stats()
        result["mock_requests"] = stats["requests"]
        result["mock_by_status"] = stats["by_status"]
        sides[side] = result
    return sides


def run(
    quick: bool = False, loops: int | None = None, scale_loops: int | None = None
) -> dict[str, Any]:
    n = loops or (200 if quick else 1000)
    scale_n = scale_loops or (1000 if quick else 10_000)
    sides = _run_sides(n, TOOL_ROUNDS, "agents")
    scale = _run_sides(scale_n, SCALE_TOOL_ROUNDS, "agents-scale")
    report = {
        "benchmark": "agents",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "loops": n,
            "tool_rounds": TOOL_ROUNDS,
            "model_calls_per_loop": TOOL_ROUNDS + 1,
            "max_rounds": MAX_ROUNDS,
            "latency_ms": LATENCY_MS,
            "concurrency": CONCURRENCY,
            "floor_s": (TOOL_ROUNDS + 1) * LATENCY_MS / 1000,
        },
        "sides": sides,
        "scale": {
            "config": {
                "loops": scale_n,
                "tool_rounds": SCALE_TOOL_ROUNDS,
                "model_calls_per_loop": SCALE_TOOL_ROUNDS + 1,
                "latency_ms": LATENCY_MS,
            },
            "sides": scale,
        },
    }
    C.write_json("agents", report)
    return report


def _cell(side: dict[str, Any], key: str) -> Any:
    return side.get(key) if side.get("available") else "n/a"


def _side_rows(dr: dict[str, Any], lm: dict[str, Any]) -> list[list[Any]]:
    return [
        [
            "wall time (s, lower is better)",
            _cell(dr, "wall_s"),
            _cell(lm, "wall_s"),
            C.ratio(dr.get("wall_s"), lm.get("wall_s")),
        ],
        ["loops that reached the final answer", _cell(dr, "finished"), _cell(lm, "finished"), ""],
        ["loops failed", _cell(dr, "failed"), _cell(lm, "failed"), ""],
        [
            "model calls per loop (mean)",
            _cell(dr, "mean_model_calls_per_loop"),
            _cell(lm, "mean_model_calls_per_loop"),
            "",
        ],
        ["model calls received by the mock", dr.get("mock_requests"), lm.get("mock_requests"), ""],
        [
            "SubAgent actors (their start before the timed swarm, s)",
            f"{dr.get('subagent_actors')} ({dr.get('subagent_start_s')})",
            "-",
            "",
        ],
        [
            "driver peak RSS (MiB)",
            _cell(dr, "driver_peak_rss_mb"),
            _cell(lm, "driver_peak_rss_mb"),
            C.ratio(dr.get("driver_peak_rss_mb"), lm.get("driver_peak_rss_mb")),
        ],
        ["peak RSS of the largest SubAgent (MiB)", _cell(dr, "subagent_peak_rss_mb"), "-", ""],
        [
            "process tree peak (MiB, sampled)",
            _cell(dr, "tree_peak_rss_mb"),
            _cell(lm, "tree_peak_rss_mb"),
            "",
        ],
        [
            "CPU of every process incl. the mock (s)",
            _cell(dr, "cpu_total_s"),
            _cell(lm, "cpu_total_s"),
            C.ratio(dr.get("cpu_total_s"), lm.get("cpu_total_s")),
        ],
    ]


def _met(ok: bool | None) -> str:
    return "n/a" if ok is None else ("yes" if ok else "no")


def _targets(report: dict[str, Any]) -> list[list[Any]]:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    calls = cfg["loops"] * cfg["model_calls_per_loop"]
    both = dr.get("available") and lm.get("available")
    wall = dr.get("wall_s", 0) / lm["wall_s"] if both and lm.get("wall_s") else None
    cpu_dr = 1000 * dr["cpu_total_s"] / calls if both and dr.get("cpu_total_s") else None
    cpu_lm = 1000 * lm["cpu_total_s"] / calls if both and lm.get("cpu_total_s") else None
    scale = report.get("scale") or {}
    big = (scale.get("sides") or {}).get("deluge_ray") or {}
    big_n = (scale.get("config") or {}).get("loops")
    return [
        [
            f"wall <= 0.8x lm-deluge ({cfg['loops']:,} loops)",
            f"{wall:.2f}x" if wall else "n/a",
            _met(wall <= 0.8 if wall else None),
        ],
        [
            "CPU per model call (all processes) <= lm-deluge's",
            f"{cpu_dr:.2f} vs {cpu_lm:.2f} ms" if cpu_dr and cpu_lm else "n/a",
            _met(cpu_dr <= cpu_lm if cpu_dr and cpu_lm else None),
        ],
        [
            f"{big_n or 0:,} loops all reach their answer",
            f"{big.get('finished', 'n/a')} of {big_n}" if big else "n/a",
            _met(big.get("finished") == big_n if big.get("available") else None),
        ],
    ]


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    lines = [
        "## 7. Agent loops",
        "",
        f"{cfg['loops']:,} loops at once, each {cfg['tool_rounds']} tool rounds + a final "
        f"answer ({cfg['model_calls_per_loop']} model calls), mock latency "
        f"{cfg['latency_ms']} ms, no limit, {cfg['concurrency']:,} concurrent requests; the "
        f"floor is {cfg['floor_s']:.1f} s. lm-deluge: {lm.get('mode', 'n/a')}. "
        f"deluge_ray: {dr.get('mode', 'n/a')}.",
        "",
    ]
    if not dr.get("available"):
        why = dr.get("error") or "the deluge_ray client has no agent-loop method yet"
        lines += ["**deluge_ray: not available** -- " + why.splitlines()[0], ""]
    lines.append(C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], _side_rows(dr, lm)))
    calls = cfg["loops"] * cfg["model_calls_per_loop"]
    breakdown = C.cpu_breakdown_table(dr, lm, calls, "model calls")
    if breakdown:
        lines += ["", breakdown]
    scale = report.get("scale")
    if scale:
        sdr, slm = scale["sides"]["deluge_ray"], scale["sides"]["lm_deluge"]
        scfg = scale["config"]
        lines += [
            "",
            f"**Scale:** {scfg['loops']:,} loops at once, each {scfg['tool_rounds']} tool "
            f"rounds + a final answer, the same way.",
            "",
            C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], _side_rows(sdr, slm)),
        ]
    lines += ["", C.md_table(["target", "measured", "met"], _targets(report))]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 loops instead of 1,000")
    parser.add_argument("--loops", type=int, default=None, help="override the loop count")
    parser.add_argument(
        "--scale-loops", type=int, default=None, help="override the scale scenario's loop count"
    )
    args = parser.parse_args()
    print(markdown(run(args.quick, args.loops, args.scale_loops)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
