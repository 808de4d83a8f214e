"""Run the whole benchmark suite and write ``benchmarks/RESULTS.md``.

    python benchmarks/run_all.py            # the full suite (about 15-25 minutes on 2 cores)
    python benchmarks/run_all.py --quick    # small sizes, a few minutes: proves it all works
    python benchmarks/run_all.py --only saturation,startup
    python benchmarks/run_all.py --only tenants --reuse   # re-run one, keep the others' figures

Every benchmark compares deluge_ray with lm-deluge (installed from PyPI, the ``bench``
extra) against the same mock provider in the same run; each client runs in its own
subprocess (see ``_common.py``). Outputs:

* ``benchmarks/RESULTS.md`` -- the machine and the command at the top, a summary of the
  targets, then a table per benchmark with both clients side by side and their ratio;
* ``benchmarks/results/<benchmark>.json`` -- the raw numbers (per-second series included);
* ``benchmarks/plots/*.png`` -- served requests/s over time against the limit, per client.

The cache and mock-throughput benchmarks belong to their modules' owners
(``bench_cache.py``, ``bench_mock.py``); they are run as they are and their JSON read back.
A benchmark that fails is reported in RESULTS.md with its error; the others still run.
The issue benchmarks (Ray Data, tenants, cluster, long requests, agent resume) are imported
only when they run, so one that cannot import fails alone.

``--reuse`` renders every benchmark *not* run this time from its last JSON in
``results/``, with the date and commit of the run that wrote it (kept in
``results/run_all.json``), so one benchmark can be re-measured without re-running the rest.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C
import _summary as R
import bench_agents
import bench_memory
import bench_overhead
import bench_saturation
import bench_shared_limit
import bench_startup


# ---------------------------------------------------------------------------- owned elsewhere
def _run_script(args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=C.REPO_DIR,
        env={**os.environ, **C.BENCH_ENV},
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_mock(quick: bool) -> dict[str, Any]:
    """``bench_mock.py`` (mock requests/s on one core, zero latency), read back from its JSON.

    It always writes ``results/mock.json``. A quick run must not replace the committed full
    figures with 5-second ones, so in quick mode the file is put back afterwards and the
    quick numbers are kept only in this suite's report.
    """
    path = C.RESULTS_DIR / "mock.json"
    saved = path.read_bytes() if quick and path.exists() else None
    args = ["benchmarks/bench_mock.py"]
    if quick:
        args += ["--seconds", "5", "--warmup", "1"]
    try:
        done = _run_script(args, timeout=600)
        if done.returncode != 0:
            raise RuntimeError(
                f"bench_mock.py exited with {done.returncode}:\n{done.stderr[-2000:]}"
            )
        data = json.loads(path.read_text())
    finally:
        if saved is not None:
            path.write_bytes(saved)
    return {"benchmark": "mock", "quick": quick, "command": " ".join(["python", *args]), **data}


def run_cache(quick: bool) -> dict[str, Any]:
    """``bench_cache.py`` (entries/s per cache, CacheActor batching), read back from its JSON.

    Quick mode writes to ``results/cache.quick.json`` so the committed full figures stay.
    """
    out = C.RESULTS_DIR / ("cache.quick.json" if quick else "cache.json")
    args = ["benchmarks/bench_cache.py", "--out", str(out.relative_to(C.REPO_DIR))]
    if quick:
        args += ["--entries", "1000", "--single", "200", "--actor-keys", "500"]
    done = _run_script(args, timeout=1200)
    if done.returncode != 0:
        raise RuntimeError(f"bench_cache.py exited with {done.returncode}:\n{done.stderr[-2000:]}")
    data = json.loads(out.read_text())
    return {"benchmark": "cache", "quick": quick, "command": " ".join(["python", *args]), **data}


# ---------------------------------------------------------------------------- the suite
# (name, runner, markdown renderer), in the order they run. Start-up goes first, while no
# Ray of this suite's making is running; the mock's own ceiling is measured before the
# client benchmarks that may hit it.
Runner = Callable[[bool], dict[str, Any]]
Renderer = Callable[[dict[str, Any]], str]
BENCHMARKS: list[tuple[str, Runner, Renderer]] = [
    ("mock", run_mock, R.mock_markdown),
    ("startup", bench_startup.run, bench_startup.markdown),
    ("saturation", bench_saturation.run, bench_saturation.markdown),
    ("shared_limit", bench_shared_limit.run, bench_shared_limit.markdown),
    ("overhead", bench_overhead.run, bench_overhead.markdown),
    ("memory", bench_memory.run, bench_memory.markdown),
    ("agents", bench_agents.run, bench_agents.markdown),
    ("cache", run_cache, R.cache_markdown),
]

# The issues' own benchmarks, by result name and module; imported when they run.
ISSUE_BENCHMARKS: list[tuple[str, str]] = [
    ("long_requests", "bench_long_requests"),
    ("cluster", "bench_cluster"),
    ("tenants", "bench_tenants"),
    ("ray_data", "bench_ray_data"),
    ("agent_resume", "bench_agent_resume"),
]


def _lazy(module: str, attr: str) -> Callable[..., Any]:
    def call(*args: Any) -> Any:
        return getattr(importlib.import_module(module), attr)(*args)

    return call


BENCHMARKS += [(name, _lazy(mod, "run"), _lazy(mod, "markdown")) for name, mod in ISSUE_BENCHMARKS]


def _run_stamps() -> dict[str, dict[str, Any]]:
    """Which run (date, commit) last wrote each benchmark's full figures."""
    try:
        last = json.loads((C.RESULTS_DIR / "run_all.json").read_text())
    except (OSError, ValueError):
        return {}
    if isinstance(last.get("runs"), dict):
        return last["runs"]
    # Written before stamps were kept: every benchmark it timed came from that one run.
    machine = last.get("machine", {})
    stamp = {"date_utc": machine.get("date_utc"), "git_commit": machine.get("git_commit")}
    return {} if last.get("quick") else {name: stamp for name in last.get("elapsed_s", {})}


def _earlier_reports(names: list[str]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The last JSON of each named benchmark, and a line saying which run wrote it."""
    stamps = _run_stamps()
    reports: dict[str, dict[str, Any]] = {}
    notes: dict[str, str] = {}
    for name in names:
        path = C.RESULTS_DIR / f"{name}.json"
        if not path.exists():
            continue
        reports[name] = json.loads(path.read_text())
        stamp = stamps.get(name) or {}
        notes[name] = (
            f"from an earlier run: {stamp.get('date_utc', 'date unknown')}, "
            f"commit {stamp.get('git_commit') or 'unknown'}"
        )
    return reports, notes


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and short durations")
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated benchmarks to run: " + ",".join(n for n, _, _ in BENCHMARKS),
    )
    parser.add_argument(
        "--output",
        default=str(C.BENCH_DIR / "RESULTS.md"),
        help="where to write the Markdown report",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="render the benchmarks not run this time from their last results/*.json",
    )
    args = parser.parse_args()
    names = [n for n, _, _ in BENCHMARKS]
    chosen = [n.strip() for n in args.only.split(",") if n.strip()] or names
    unknown = sorted(set(chosen) - set(names))
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(names)}")

    command = "python benchmarks/run_all.py" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {args.only}"
    machine = C.machine_info()
    reports: dict[str, dict[str, Any]] = {}
    failures: dict[str, str] = {}
    elapsed: dict[str, float] = {}
    started = time.perf_counter()
    for name, runner, _ in BENCHMARKS:
        if name not in chosen:
            continue
        print(f"[run_all] {name} ...", flush=True)
        t0 = time.perf_counter()
        try:
            reports[name] = runner(args.quick)
        except Exception as exc:  # one broken benchmark must not lose the others' numbers
            failures[name] = f"{type(exc).__name__}: {exc}"
            print(f"[run_all] {name} FAILED\n{traceback.format_exc()}", flush=True)
        elapsed[name] = round(time.perf_counter() - t0, 1)
        print(f"[run_all] {name} done in {elapsed[name]:.0f} s", flush=True)

    earlier: dict[str, str] = {}
    if args.reuse:
        skipped = [n for n in names if n not in chosen]
        old_reports, earlier = _earlier_reports(skipped)
        for name, report in old_reports.items():
            report.setdefault("benchmark", name)
            report.setdefault("command", f"python benchmarks/run_all.py --only {name}")
            reports[name] = report
    text = R.render(
        command=command + (" --reuse" if args.reuse else ""),
        quick=args.quick,
        machine=machine,
        benchmarks=[(n, m) for n, _, m in BENCHMARKS if n in chosen or n in earlier],
        reports=reports,
        failures=failures,
        elapsed=elapsed,
        total_s=time.perf_counter() - started,
        earlier=earlier,
    )
    Path(args.output).write_text(text, encoding="utf-8")
    runs = _run_stamps()
    if not args.quick:  # a quick run's figures are never the ones quoted
        stamp = {"date_utc": machine.get("date_utc"), "git_commit": machine.get("git_commit")}
        runs.update({n: stamp for n in chosen if n in reports and n not in failures})
    C.write_json(
        "run_all",
        {
            "command": command,
            "quick": args.quick,
            "machine": machine,
            "elapsed_s": elapsed,
            "failures": failures,
            "targets": R.targets(reports),
            "runs": runs,
        },
    )
    print(f"[run_all] wrote {args.output}", flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
