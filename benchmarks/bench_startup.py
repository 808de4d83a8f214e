"""Start-up and per-request latency: the cost of Ray for one prompt, cold and warm.

Run:  python benchmarks/bench_startup.py [--quick]

The mock provider (its own process) has no limit and answers after a fixed 50 ms. Every
measurement below is a fresh worker process, so "cold" really means cold (only the OS
file cache is warm: the first repetition pays for reading the libraries from disk):

* ``ray_init``: ``import ray`` and then ``ray.init(...)`` with the options deluge_ray's
  embedded start uses (namespace, no dashboard, no log forwarding) -- the fair baseline,
  since a plain ``ray.init()`` would also start the dashboard. deluge_ray imports Ray
  inside its first call, so the baseline is import + init;
* ``deluge_ray``: ``from deluge_ray import LLMClient``, then ``LLMClient(...)`` and a single
  ``process_prompts_sync(["hi"])`` with Ray not yet started (Ray start-up, the limiter and
  a ProviderCaller actor, one request with its 50 ms);
* ``lm_deluge``: the same single call with lm-deluge (no runtime to start).

The ``deluge_ray`` side above runs with ``DELUGE_RAY_LOCAL=process`` (a Ray of its own, as
before the machine-wide head). The machine-wide head (issue 15, item 2) adds two more,
each with a state directory and Ray temp dir of this run's own:

* ``machine_cold``: the same first call with ``DELUGE_RAY_LOCAL=machine`` and no head
  running, so the process starts the head (deluge_ray's head process, which starts Ray)
  and joins it; the head is stopped after each repetition so that the next one is cold
  again. Its references: the head's own start (``ensure_local_head`` from this process,
  which varies by a second here), measured in each repetition too, and its median used;
  and the starts before it: ``ray start --head`` with the same options (what the head ran
  until it had a process of its own, timed in each repetition until it is up, then
  stopped), and ``import ray`` + ``ray.init()`` (the ``ray_init`` rows);
* ``machine_warm``: with the head already up (started once, before), ``WARM_REPS`` (5,
  quick 2) fresh processes each make the first call, alternating with as many fresh
  lm-deluge processes (``lm_deluge`` again): medians of each, in the same run.

Cold measurements alternate ``ray_init`` / ``deluge_ray`` / ``lm_deluge`` for ``reps``
rounds (5, quick 1) and report medians; deluge_ray's *extra* start-up is its first call
minus Ray's import + init. One unmeasured ``ray_init`` process runs first, so that the
first measured process does not alone pay for reading Ray from disk. Then, in the same deluge_ray and lm-deluge processes, ``M`` sequential
single-prompt ``process_prompts_async`` calls (30, quick 10) with the client warm: the
per-request overhead is the median call time minus the mock's 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from unittest import mock as env_patch

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LATENCY_MS = 50
LIMIT_RPM = 3000  # a normal limit: one request at a time never comes near it
WARM_REPS = 5  # fresh processes per side with the machine-wide head up (quick: 2)


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
    # What a user's script does (the README's own imports): the package's names load on
    # first use, so a bare `import deluge_ray` would leave the client's import to the call.
    from deluge_ray import LLMClient  # noqa: F401

    head_started = _time_own_head_start()
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
    if head_started:  # this call started the machine-wide head: what came after it
        out["own_head_start_s"] = round(head_started[0], 3)
        out["after_head_up_s"] = round(t2 - head_started[1], 3)
    if params.get("warm_calls"):
        out.update(_warm_summary(_sequential(client, params["warm_calls"])))
    client.shutdown()
    # End as a script does at exit: the worker then leaves with os._exit, which would
    # leave a Ray of this process's own to be killed instead of shut down.
    import ray

    ray.shutdown()
    return out


def _time_own_head_start() -> list[float]:
    """Filled with ``[seconds the head took, when it was up]`` if this process starts it.

    The head-start reference of the cold target is measured in the bench's own process
    (``_start_head``), which varies by a second between runs here; timing the head this
    process starts splits its first call into the head's start and what came after.
    """
    from deluge_ray.client import _local_head

    timing: list[float] = []
    start_head = _local_head.find_or_start_local_head

    def timed(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        record, started = start_head(*args, **kwargs)
        if started:
            timing[:] = [time.perf_counter() - t0, time.perf_counter()]
        return record, started

    _local_head.find_or_start_local_head = timed  # type: ignore[assignment]
    return timing


def lm_deluge_side(params: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    from lm_deluge import LLMClient  # noqa: F401

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


SIDES = {
    "ray_init": ray_init_side,
    "deluge_ray": deluge_ray_side,
    "lm_deluge": lm_deluge_side,
    # The same deluge_ray process, run with DELUGE_RAY_LOCAL=machine (see _machine_env).
    "machine_cold": deluge_ray_side,
    "machine_warm": deluge_ray_side,
}
COLD_SIDES = ("ray_init", "deluge_ray", "lm_deluge")
PROCESS_ENV = {"DELUGE_RAY_LOCAL": "process"}


@contextlib.contextmanager
def _machine_env():
    """The environment of processes sharing a machine-wide head of this run's own."""
    root = tempfile.mkdtemp(prefix="bench-head-")
    ray_tmp = tempfile.mkdtemp(prefix="bsh-", dir="/tmp")  # short: Ray's socket paths
    env = {
        "DELUGE_RAY_LOCAL": "machine",
        "DELUGE_RAY_STATE_DIR": os.path.join(root, "state"),
        "DELUGE_RAY_CACHE_DIR": os.path.join(root, "cache"),
        "RAY_TMPDIR": ray_tmp,
    }
    try:
        yield env
    finally:
        _stop_head(env)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _stop_head(env: dict[str, str]) -> None:
    from deluge_ray.client._local_head import stop_local_head

    with env_patch.patch.dict(os.environ, env):
        stop_local_head(timeout=60)
    # The head's own process exits first; its GCS, raylet and workers wind down after it.
    # Whatever runs next is measured, so wait until none of them is left.
    marker = env["RAY_TMPDIR"].encode()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and _a_process_names(marker):
        time.sleep(0.1)


def _a_process_names(text: bytes) -> bool:
    """Whether some process's command line contains ``text`` (Linux; False elsewhere)."""
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if text in (entry / "cmdline").read_bytes():
                return True
        except OSError:
            continue
    return False


def _start_head(env: dict[str, str]) -> float:
    from deluge_ray.client._local_head import ensure_local_head

    t0 = time.perf_counter()
    with env_patch.patch.dict(os.environ, {**C.BENCH_ENV, **env}):
        ensure_local_head(announce_join=False)
    return round(time.perf_counter() - t0, 3)


def _time_ray_start(env: dict[str, str]) -> float:
    """Seconds ``ray start --head`` takes to bring a head up (what the machine-wide head used
    before it had a process of its own), with the same options; the head is then stopped.
    """
    import signal
    import socket
    import subprocess

    temp_dir = tempfile.mkdtemp(prefix="brs-", dir="/tmp")  # short: Ray's socket paths
    ready = os.path.join(temp_dir, "ray_current_cluster")  # `ray start` writes it last
    with socket.socket() as probe:
        probe.bind(("", 0))
        port = probe.getsockname()[1]
    cmd = [
        sys.executable, "-m", "ray.scripts.scripts", "start", "--head", "--block",
        f"--port={port}", f"--temp-dir={temp_dir}", "--disable-usage-stats",
        "--include-dashboard=false",
    ]  # fmt: skip
    run_env = {**os.environ, **C.BENCH_ENV, **env}
    run_env.pop("RAY_ADDRESS", None)
    t0 = time.perf_counter()
    head = subprocess.Popen(
        cmd, env=run_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip
    try:
        while not os.path.exists(ready) and head.poll() is None:
            time.sleep(0.01)
        took = round(time.perf_counter() - t0, 3)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGTERM)
        try:
            head.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(head.pid, signal.SIGKILL)
        marker = temp_dir.encode()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and _a_process_names(marker):
            time.sleep(0.1)
        shutil.rmtree(temp_dir, ignore_errors=True)
    return took


def _median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return round(statistics.median(values), 3) if values else None


def run(quick: bool = False) -> dict[str, Any]:
    # Five: a Ray start here lands on one of two whole-second steps (see client/_node_start),
    # and a median of three followed whichever step two of them happened to take.
    reps = 1 if quick else 5
    warm_reps = 2 if quick else WARM_REPS
    warm_calls = 10 if quick else 30
    runs: dict[str, list[dict[str, Any]]] = {side: [] for side in SIDES}
    warm_lm: list[dict[str, Any]] = []
    head_starts: list[float] = []  # the head's own start, once per repetition
    ray_starts: list[float] = []  # `ray start --head`, once per repetition
    with C.MockServer(latency_ms=LATENCY_MS) as mock, _machine_env() as machine:
        params = {"base_url": mock.openai_base_url}
        # Not measured: reads Ray's libraries into the OS file cache, so the first measured
        # process does not pay for the disk while the others do not.
        C.run_worker(__file__, "ray_init", {}, label="startup-priming", timeout=600)
        for rep in range(reps):
            last = rep == reps - 1
            for side in COLD_SIDES:
                side_params = dict(params)
                if last and side != "ray_init":
                    side_params["warm_calls"] = warm_calls  # measured once, in the last round
                runs[side].append(
                    C.run_worker(
                        __file__,
                        side,
                        side_params,
                        env=PROCESS_ENV,
                        label=f"startup-{side}-{rep}",
                        timeout=600,
                    )
                )
            # Nothing running: this process starts the machine-wide head, then joins it.
            runs["machine_cold"].append(
                C.run_worker(
                    __file__,
                    "machine_cold",
                    params,
                    env=machine,
                    label=f"startup-machine-cold-{rep}",
                    timeout=600,
                )
            )
            _stop_head(machine)
            ray_starts.append(_time_ray_start(machine))
            head_starts.append(_start_head(machine))
            if not last:  # the last one stays up for the warm processes
                _stop_head(machine)
        head_start_s = round(statistics.median(head_starts), 3)
        for rep in range(warm_reps):
            runs["machine_warm"].append(
                C.run_worker(
                    __file__,
                    "machine_warm",
                    params,
                    env=machine,
                    label=f"startup-machine-warm-{rep}",
                    timeout=600,
                )
            )
            warm_lm.append(
                C.run_worker(
                    __file__,
                    "lm_deluge",
                    params,
                    env=PROCESS_ENV,
                    label=f"startup-machine-warm-lm-{rep}",
                    timeout=600,
                )
            )
    runs["lm_deluge_beside_warm"] = warm_lm
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
        "machine_cold_first_call_s": _median(runs["machine_cold"], "first_call_s"),
        "machine_cold_own_head_start_s": _median(runs["machine_cold"], "own_head_start_s"),
        "machine_cold_after_head_up_s": _median(runs["machine_cold"], "after_head_up_s"),
        "machine_warm_first_call_s": _median(runs["machine_warm"], "first_call_s"),
        "machine_warm_import_s": _median(runs["machine_warm"], "import_s"),
        "lm_deluge_beside_warm_first_call_s": _median(warm_lm, "first_call_s"),
        "lm_deluge_beside_warm_import_s": _median(warm_lm, "import_s"),
        "head_start_s": head_start_s,
        "head_starts_s": head_starts,
        "ray_start_s": round(statistics.median(ray_starts), 3),
        "ray_starts_s": ray_starts,
    }
    for key, rows in (("machine_warm", runs["machine_warm"]), ("lm_deluge_beside_warm", warm_lm)):
        for row in rows:
            row["import_and_first_call_s"] = round(row["import_s"] + row["first_call_s"], 3)
        summary[f"{key}_import_and_first_call_s"] = _median(rows, "import_and_first_call_s")
    # deluge_ray imports Ray lazily, inside the first call: compare with import + init.
    first, base = summary["deluge_ray_first_call_s"], summary["ray_import_and_init_s"]
    if first is not None and base is not None:
        summary["deluge_ray_extra_over_ray_init_s"] = round(first - base, 3)
    report = {
        "benchmark": "startup",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "latency_ms": LATENCY_MS,
            "reps": reps,
            "warm_calls": warm_calls,
            "machine_warm_reps": warm_reps,
        },
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
    warm_target = round(1.0 + cfg["latency_ms"] / 1000, 3)
    machine_rows = [
        [
            "machine-wide head already up: first call in a fresh process (s, median; "
            f"target <= {warm_target})",
            s.get("machine_warm_first_call_s"),
            s.get("lm_deluge_beside_warm_first_call_s"),
            C.ratio(
                s.get("machine_warm_first_call_s"), s.get("lm_deluge_beside_warm_first_call_s")
            ),
        ],
        [
            "same, import + first call (s, median)",
            s.get("machine_warm_import_and_first_call_s"),
            s.get("lm_deluge_beside_warm_import_and_first_call_s"),
            "",
        ],
        [
            "nothing running: first call starts the head and joins it (s, median)",
            s.get("machine_cold_first_call_s"),
            "",
            "",
        ],
        [
            "same, split: its own head start / head up to first result (s, median)",
            f"{s.get('machine_cold_own_head_start_s')} / {s.get('machine_cold_after_head_up_s')}",
            "",
            "",
        ],
        [
            "nothing running, DELUGE_RAY_LOCAL=process: first call (s, the row above it)",
            s["deluge_ray_first_call_s"],
            "",
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
            "",
            "The machine-wide local Ray head: warm figures are medians of "
            f"{cfg.get('machine_warm_reps')} fresh processes per side, alternating, with the "
            "head started once before them; cold ones start it (and it is stopped after each).",
            "",
            C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], machine_rows),
            "",
            "Targets (issue 15, item 2):",
            "",
            C.md_table(["figure", "target", "deluge_ray", "met"], targets(report)),
        ]
    )


def _met(value: float | None, limit: float | None) -> str:
    if value is None or limit is None:
        return "-"
    return "yes" if value <= limit else "**no**"


def targets(report: dict[str, Any]) -> list[list[Any]]:
    """Issue 15 item 2's targets, with what this run measured and whether each was met."""
    s, cfg = report["summary"], report["config"]
    latency_s = cfg["latency_ms"] / 1000
    warm_limit = round(1.0 + latency_s, 3)
    head = s.get("head_start_s")
    cold_limit = round(head + 0.3 + latency_s, 3) if head is not None else None
    # The starts before this head: Ray in the user's own process, and `ray start --head`.
    embedded = s.get("ray_import_and_init_s")
    embedded_limit = round(embedded + 0.3 + latency_s, 3) if embedded is not None else None
    ray_start = s.get("ray_start_s")
    ray_start_limit = round(ray_start + 0.3 + latency_s, 3) if ray_start is not None else None
    warm = s.get("machine_warm_first_call_s")
    cold = s.get("machine_cold_first_call_s")
    after = s.get("machine_cold_after_head_up_s")
    overhead = s.get("deluge_ray_warm_overhead_ms")
    return [
        [
            "head up: first result in a fresh process (s)",
            f"<= 1.0 + latency = {warm_limit}",
            warm,
            _met(warm, warm_limit),
        ],
        [
            "nothing running: first result, head started by it (s)",
            f"<= head start ({head}) + 0.3 + latency",
            cold,
            _met(cold, cold_limit),
        ],
        [
            "same, measured in the process: head up to first result (s)",
            f"<= 0.3 + latency = {round(0.3 + latency_s, 3)}",
            after,
            _met(after, round(0.3 + latency_s, 3)),
        ],
        [
            "nothing running: first result, against `ray start --head` (s)",
            f"<= `ray start --head` ({ray_start}) + 0.3 + latency",
            cold,
            _met(cold, ray_start_limit),
        ],
        [
            "nothing running: first result, against a Ray of the process's own (s)",
            f"<= `import ray` + `ray.init()` ({embedded}) + 0.3 + latency",
            cold,
            _met(cold, embedded_limit),
        ],
        ["warm per-request overhead (ms)", "< 20", overhead, _met(overhead, 19.999)],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 repetition instead of 3")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
