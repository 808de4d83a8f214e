"""Assemble ``RESULTS.md``: machine header, the targets at a glance, one section per benchmark.

Used by ``run_all.py``; each benchmark module renders its own section, this module adds
the parts that span benchmarks (the header, the target table, the limiter-call figures)
and the sections of the benchmarks owned elsewhere (mock throughput, caches).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import _common as C

Renderer = Callable[[dict[str, Any]], str]

DISPLAY_ORDER = [
    "saturation",
    "shared_limit",
    "overhead",
    "memory",
    "startup",
    "limiter",
    "agents",
    "long_requests",
    "cluster",
    "tenants",
    "ray_data",
    "agent_resume",
    "mock",
    "cache",
]


# ---------------------------------------------------------------------------- targets
def _get(reports: dict[str, Any], *path: str) -> Any:
    node: Any = reports
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def targets(reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's performance targets with what this run measured (``met`` None: no data)."""
    rows: list[dict[str, Any]] = []

    def add(name: str, target: str, ours: Any, theirs: Any, met: bool | None) -> None:
        rows.append(
            {"name": name, "target": target, "deluge_ray": ours, "lm_deluge": theirs, "met": met}
        )

    sat = _get(reports, "saturation", "sides")
    if sat:
        dr, lm = sat["deluge_ray"], sat["lm_deluge"]
        add(
            "saturation, % of limit (steady state)",
            ">= 97%",
            dr["steady_pct_of_limit"],
            lm["steady_pct_of_limit"],
            dr["steady_pct_of_limit"] >= 97,
        )
        add(
            "saturation, 429s from the mock",
            "0",
            dr["mock"]["rate_limited"],
            lm["mock"]["rate_limited"],
            dr["mock"]["rate_limited"] == 0,
        )
        calls = dr.get("limiter_calls_per_request")
        add(
            "RateLimiter calls per request at saturation",
            "<= 0.1",
            C.per_request(calls),
            "n/a",
            None if calls is None else calls <= 0.1,
        )
    shared = _get(reports, "shared_limit", "sides")
    if shared:
        dr, lm = shared["deluge_ray"], shared["lm_deluge"]
        add(
            "3 drivers sharing a limit, combined % of limit",
            ">= 95%",
            dr["steady_pct_of_limit"],
            lm["steady_pct_of_limit"],
            dr["steady_pct_of_limit"] >= 95,
        )
        add(
            "3 drivers sharing a limit, % answered 429",
            "<= 1%",
            dr["mock"]["pct_429"],
            lm["mock"]["pct_429"],
            dr["mock"]["pct_429"] <= 1,
        )
    over = _get(reports, "overhead", "sides")
    if over:
        ours, theirs = over["deluge_ray"]["requests_per_s"], over["lm_deluge"]["requests_per_s"]
        add(
            "throughput, no limit/latency (req/s)",
            ">= 1.2x lm-deluge",
            ours,
            theirs,
            ours >= 1.2 * theirs,
        )
        ours = over["deluge_ray"].get("cpu_us_per_request_but_mock")
        theirs = over["lm_deluge"].get("cpu_us_per_request_but_mock")
        if ours is not None and theirs is not None:
            add(
                "CPU per request, all processes but the mock (µs)",
                "<= lm-deluge",
                ours,
                theirs,
                ours <= theirs,
            )
    mem = _get(reports, "memory", "sides")
    if mem:
        ours, theirs = (
            mem["deluge_ray"]["driver_peak_rss_mb"],
            mem["lm_deluge"]["driver_peak_rss_mb"],
        )
        n = _get(reports, "memory", "config", "prompts")
        add(f"driver peak RSS, {n:,} prompts (MiB)", "<= lm-deluge", ours, theirs, ours <= theirs)
    start = _get(reports, "startup", "summary")
    if start:
        extra = start.get("deluge_ray_extra_over_ray_init_s")
        add(
            "first call with Ray not started, beyond ray.init (s)",
            "<= 1.5",
            None if extra is None else f"{extra:.2f}",  # 1.53 is not "1.5"
            "n/a",
            None if extra is None else extra <= 1.5,
        )
        up = start.get("machine_warm_first_call_s")
        add(
            "machine-wide head up: first result in a fresh process (s)",
            "<= 1.05",
            up,
            start.get("lm_deluge_beside_warm_first_call_s"),
            None if up is None else up <= 1.05,
        )
        cold, ray_start = start.get("machine_cold_first_call_s"), start.get("ray_start_s")
        if ray_start is not None:
            add(
                "nothing running: first result, head started by it (s)",
                f"<= `ray start --head` ({ray_start}) + 0.35",
                cold,
                "n/a",
                None if cold is None else cold <= ray_start + 0.35,
            )
        warm = start.get("deluge_ray_warm_overhead_ms")
        add(
            "warm per-request overhead over the mock (ms)",
            "< 20",
            warm,
            start.get("lm_deluge_warm_overhead_ms"),
            None if warm is None else warm < 20,
        )
    agents = _get(reports, "agents", "sides")
    if agents:
        dr, lm = agents["deluge_ray"], agents["lm_deluge"]
        n = _get(reports, "agents", "config", "loops")
        add(
            f"{n:,} agent loops x 3 tool rounds, wall time (s)",
            "(reported)",
            dr.get("wall_s") if dr.get("available") else "not available",
            lm.get("wall_s") if lm.get("available") else "not available",
            None,
        )
        calls = n * (_get(reports, "agents", "config", "model_calls_per_loop") or 1)
        if dr.get("cpu_total_s") and lm.get("cpu_total_s"):
            ours, theirs = 1000 * dr["cpu_total_s"] / calls, 1000 * lm["cpu_total_s"] / calls
            add("agent loops, CPU per model call, all processes (ms)", "<= lm-deluge",
                round(ours, 2), round(theirs, 2), ours <= theirs)  # fmt: skip
    rows += _issue_targets(reports)
    return rows


def _issue_targets(reports: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for the wave-2 issues' benchmarks (cluster, long requests, tenants, Ray Data,
    agent resume), each from its own report; a benchmark not run adds no row."""
    rows: list[dict[str, Any]] = []

    def add(name: str, target: str, ours: Any, theirs: Any, met: bool | None) -> None:
        rows.append(
            {"name": name, "target": target, "deluge_ray": ours, "lm_deluge": theirs, "met": met}
        )

    agents = _get(reports, "agents", "sides")
    if agents and agents["deluge_ray"].get("wall_s") and agents["lm_deluge"].get("wall_s"):
        ratio = agents["deluge_ray"]["wall_s"] / agents["lm_deluge"]["wall_s"]
        # Two decimals: one would show 0.84 as 0.8 beside a "no".
        add("agent loops, wall time / lm-deluge's", "<= 0.8", f"{ratio:.2f}", "1.00", ratio <= 0.8)
    parts = _get(reports, "cluster", "parts")
    if parts:
        steady, lost = parts["steady"], parts["limiter_node_lost"]
        outside = (lost.get("outside_outage") or {}).get("steady_pct_of_limit")
        add("3 nodes, % of the limit (no fault)", ">= 97%", steady["steady_pct_of_limit"],
            "n/a", steady["steady_pct_of_limit"] >= 97)  # fmt: skip
        add("3 nodes, % answered 429 (no fault / limiter's node lost)", "<= 0.5%",
            f"{steady['pct_429']} / {lost['pct_429']}", "n/a",
            max(steady["pct_429"], lost["pct_429"]) <= 0.5)  # fmt: skip
        add("3 nodes, limiter's node lost: % of the limit outside the outage", ">= 97%",
            outside, "n/a", None if outside is None else outside >= 97)  # fmt: skip
        add("3 nodes, limiter's node lost: recovery (s)", "(reported)",
            lost.get("recovery_s"), "n/a", None)  # fmt: skip
    long = _get(reports, "long_requests", "sides")
    if long:
        dr, lm = long["deluge_ray"], long["lm_deluge"]
        target = _get(reports, "long_requests", "config", "target_completions_per_s")
        add("long requests, completions/s at 5,000 in flight", f">= {target:g}",
            dr["steady_completions_per_s"], lm["steady_completions_per_s"],
            bool(dr["target_met"]))  # fmt: skip
    tenants = _get(reports, "tenants", "sides")
    if tenants:
        dr, lm = tenants["deluge_ray"], tenants["lm_deluge"]
        lat = _get(reports, "tenants", "config", "latency_ms")
        p50, p99 = dr["interactive_p50_ms"], dr["interactive_p99_ms"]
        add("two jobs on a key, interactive p50 (ms)", f"<= {1.5 * lat:.0f}", p50,
            lm["interactive_p50_ms"], None if p50 is None else p50 <= 1.5 * lat)  # fmt: skip
        add("two jobs on a key, interactive p99 (ms)", f"<= {3 * lat:.0f}", p99,
            lm["interactive_p99_ms"], None if p99 is None else p99 <= 3 * lat)  # fmt: skip
        add("two jobs on a key, combined % of the limit", ">= 97%",
            dr["combined_pct_of_limit"], lm["combined_pct_of_limit"],
            dr["combined_pct_of_limit"] >= 97)  # fmt: skip
        budget = _get(reports, "tenants", "budget")
        if budget:
            add("a budget stops the job within one lease of it", "yes",
                "yes" if budget["within_one_lease"] else "no", "n/a",
                bool(budget["within_one_lease"]))  # fmt: skip
    data = _get(reports, "ray_data")
    if data and data.get("deluge_ray") and data.get("ray_llm"):
        dr, ray_llm = data["deluge_ray"], data["ray_llm"]
        add("Ray Data at a limit, % of the limit (vs ray.data.llm)", ">= 95%",
            dr["steady_pct_of_limit"], f"{ray_llm['steady_pct_of_limit']} (ray.data.llm)",
            dr["steady_pct_of_limit"] >= 95)  # fmt: skip
    resume = _get(reports, "agent_resume", "sides", "deluge_ray")
    if resume:
        add("swarm driver killed at 50%: loops re-run", "0", resume["loops_rerun"],
            _get(reports, "agent_resume", "sides", "lm_deluge", "loops_rerun"),
            resume["loops_rerun"] == 0)  # fmt: skip
        add("swarm driver killed at 50%: calls re-sent", "<= loops in flight",
            f"{resume['calls_resent']} (of {resume['in_flight_at_kill']} in flight)",
            _get(reports, "agent_resume", "sides", "lm_deluge", "calls_resent"),
            resume["calls_resent"] <= resume["in_flight_at_kill"])  # fmt: skip
    return rows


def _targets_table(rows: list[dict[str, Any]]) -> str:
    marks = {True: "yes", False: "**no**", None: "-"}
    return C.md_table(
        ["figure", "target (deluge_ray)", "deluge_ray", "lm-deluge", "met"],
        [[r["name"], r["target"], r["deluge_ray"], r["lm_deluge"], marks[r["met"]]] for r in rows],
    )


# ---------------------------------------------------------------------------- sections
def limiter_markdown(reports: dict[str, dict[str, Any]]) -> str | None:
    """Section 6: RateLimiter actor calls per request, from the two limited benchmarks."""
    rows = []
    for name, label in (("saturation", "one driver"), ("shared_limit", "three drivers")):
        side = _get(reports, name, "sides", "deluge_ray")
        if not side:
            continue
        limiter = side.get("limiter") or {}
        rows.append(
            [
                label,
                limiter.get("lease_calls"),
                side["mock"]["requests"],
                C.per_request(side.get("limiter_calls_per_request")),
                limiter.get("refusals"),
            ]
        )
    if not rows:
        return None
    return "\n".join(
        [
            "## 6. RateLimiter calls per request at saturation",
            "",
            "From the RateLimiter actor's `stats()` at the end of benchmarks 1 and 2 "
            "(`lease_calls`, every call including refusals and report-only calls) divided by "
            "the requests the mock received. Target: at most 1 per 10. lm-deluge's limiter "
            "is in-process, so it has no such cost (and no way to share).",
            "",
            C.md_table(["run", "limiter calls", "requests", "calls per request", "refusals"], rows),
        ]
    )


def mock_markdown(report: dict[str, Any]) -> str:
    rows = [
        ["requests/s (chat completions, zero latency)", report.get("requests_per_second")],
        ["measured over (s)", report.get("seconds")],
        ["concurrency of the load generator", report.get("concurrency")],
        ["non-200 answers", report.get("non_200")],
    ]
    return "\n".join(
        [
            "## 8a. Mock provider throughput (`bench_mock.py`)",
            "",
            "The mock alone, pinned to one core, driven by a bare aiohttp load generator on "
            "the other: the ceiling above which a client benchmark measures the mock, not "
            "the client. (In benchmarks 3, 4 and 7 the mock is not pinned: it shares both "
            "cores with the client under test, the same for both clients.)",
            "",
            f"Command: `{report.get('command')}`",
            "",
            C.md_table(["", "value"], rows),
        ]
    )


def cache_markdown(report: dict[str, Any]) -> str:
    results = report.get("results", {})
    per_cache = [
        [
            name,
            row.get("put_many_per_s"),
            row.get("get_many_per_s"),
            row.get("put_one_at_a_time_per_s"),
            row.get("get_one_at_a_time_per_s"),
        ]
        for name, row in results.items()
        if "put_many_per_s" in row
    ]
    lines = [
        "## 8b. Cache throughput (`bench_cache.py`)",
        "",
        f"{report.get('entries', 'n/a')} entries (full responses, msgpack-encoded), entries/s. "
        "lm-deluge's caches are not part of this benchmark (its own SQLite/LevelDB caches "
        "are local to one process; the CacheActor has no lm-deluge counterpart).",
        "",
        f"Command: `{report.get('command')}`",
        "",
        C.md_table(
            ["cache", "put_many /s", "get_many /s", "put one at a time /s", "get one at a time /s"],
            per_cache,
        ),
    ]
    batching = results.get("CacheActor_batching")
    if batching:
        lines += [
            "",
            C.md_table(
                ["CacheActor, per key", "value"],
                [[k.replace("_", " "), v] for k, v in batching.items()],
            ),
        ]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- the page
def _machine_lines(machine: dict[str, Any]) -> list[str]:
    versions = machine.get("versions", {})
    return [
        f"- **Machine:** {machine.get('cores')} cores ({machine.get('cores_usable')} usable), "
        f"{machine.get('cpu')}, {machine.get('ram_gb')} GB RAM; load average "
        f"{machine.get('load_average_1m')} when the suite started.",
        f"- **Date:** {machine.get('date_utc')}.",
        f"- **Software:** Python {machine.get('python')}, deluge-ray "
        f"{versions.get('deluge-ray')} (commit {machine.get('git_commit')}), lm-deluge "
        f"{versions.get('lm-deluge')}, ray {versions.get('ray')}, aiohttp "
        f"{versions.get('aiohttp')}; {machine.get('platform')}.",
    ]


def render(
    *,
    command: str,
    quick: bool,
    machine: dict[str, Any],
    benchmarks: list[tuple[str, Renderer]],
    reports: dict[str, dict[str, Any]],
    failures: dict[str, str],
    elapsed: dict[str, float],
    total_s: float,
    earlier: dict[str, str] | None = None,
) -> str:
    """The whole ``RESULTS.md``; ``earlier`` names the sections taken from an earlier run."""
    earlier = earlier or {}
    lines = ["# deluge_ray benchmarks: side by side with lm-deluge", ""]
    if quick:
        lines += [
            "> **QUICK RUN** (`--quick`): small sizes and short durations, to prove the suite "
            "works end to end. These are not the figures to quote; run the command without "
            "`--quick` on a quiet machine for those.",
            "",
        ]
    lines += [
        f"- **Command:** `{command}` (from the repository root; "
        f"{total_s / 60:.1f} minutes in all).",
        *_machine_lines(machine),
        "- **Method:** one mock provider (`deluge_ray.mock`) in its own process per run; "
        "each client in its own subprocess (memory and event loops never mix); every rate "
        "and 429 count is the mock's. Ratios are deluge_ray / lm-deluge. Raw numbers: "
        "`benchmarks/results/*.json`; plots: `benchmarks/plots/`.",
        "",
        "## Targets at a glance",
        "",
        _targets_table(targets(reports)),
        "",
    ]
    if failures:
        lines += ["## Benchmarks that failed in this run", ""]
        for name, error in failures.items():
            first = error.strip().splitlines()[0] if error.strip() else "unknown error"
            lines.append(f"- **{name}**: {first} (details: `benchmarks/results/logs/`)")
        lines.append("")
    # Sections in the numbering of the issue, whatever order the benchmarks ran in.
    renderers = dict(benchmarks)
    for name in DISPLAY_ORDER:
        if name == "limiter":
            section = limiter_markdown(reports)
            if section:
                lines += [section, ""]
            continue
        if name in reports and name in renderers:
            lines += [renderers[name](reports[name]), ""]
            if name in elapsed:
                lines += [f"_({name}: {elapsed[name]:.0f} s)_", ""]
            elif name in earlier:
                lines += [f"_({name}: {earlier[name]})_", ""]
    return "\n".join(lines).rstrip() + "\n"
