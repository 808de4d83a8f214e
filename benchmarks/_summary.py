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
        add("throughput, no limit/latency (req/s)", ">= lm-deluge", ours, theirs, ours >= theirs)
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
            extra,
            "n/a",
            None if extra is None else extra <= 1.5,
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
