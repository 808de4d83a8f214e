"""Shared plumbing of the benchmark suite: mock server, worker processes, memory, series, output.

Every benchmark follows the same shape. An *orchestrator* (the benchmark's ``run()``,
called by ``run_all.py`` or by the script's own ``main()``) starts a mock provider in a
process of its own (:class:`MockServer`), then runs each client side -- deluge_ray and
lm-deluge -- in a fresh *worker* subprocess of the same script (:func:`run_worker`), so
that the two clients never share memory, an event loop or a Ray runtime. A worker writes
its numbers to a JSON file; the orchestrator adds the mock's ground truth (requests
received per second, 429s sent) and the peak memory of the worker's process tree.

Memory and CPU instrumentation live in ``_procs.py``, tables and plots in ``_tables.py``;
both are re-exported here so a benchmark only needs ``import _common as C``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _procs import CpuTracker, TreeMemorySampler, peak_rss_mb_self, tree_rss_kb
from _tables import (
    cpu_breakdown_table,
    fmt,
    limit_rows,
    md_table,
    per_request,
    plot_rates,
    ratio,
    side_notes,
)

__all__ = [
    "CpuTracker",
    "MockServer",
    "TreeMemorySampler",
    "Worker",
    "cpu_breakdown_table",
    "cpu_roots",
    "fmt",
    "limit_rows",
    "md_table",
    "peak_rss_mb_self",
    "per_request",
    "plot_rates",
    "ratio",
    "run_worker",
    "side_notes",
    "tree_rss_kb",
    "worker_entry",
]

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
PLOTS_DIR = BENCH_DIR / "plots"
LOGS_DIR = RESULTS_DIR / "logs"

# The model both clients ask for. lm-deluge reaches the mock through a model registered
# under its own id with the mock as api_base, sending the same wire name.
MODEL = "gpt-4.1-mini"
LM_MODEL_ID = "bench-gpt-4.1-mini"
API_KEY = "bench-key"

# "No limit" for both clients: a request limit far above what this machine can send.
# deluge_ray's limiter paces from an empty bucket (see ratelimit._core), so any limit it
# can reach binds it, while lm-deluge starts with a full minute of capacity and never
# waits within a benchmark. The limit was 200,000 RPM (3,333 requests/s) until the 2-core
# Xeon build machine, where the throughput benchmark reached it (3,050-3,100 requests/s
# with any pool size or concurrency) and it paced each round of a 1,000-loop swarm over
# 0.3 s.
# 10,000,000 RPM (166,667/s) is out of reach of both clients here. Token limits are always
# far out of reach so that only the request limit under test binds (each client reserves
# an estimate of prompt + max_new_tokens per request).
NO_LIMIT_RPM = 10_000_000
NO_LIMIT_TPM = 10_000_000_000

# Environment of every benchmark process (the orchestrator's own environment is kept).
BENCH_ENV = {
    "DELUGE_RAY_TOKENIZER": "estimate",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "disabled",
    "OPENAI_API_KEY": API_KEY,
    "PYTHONUNBUFFERED": "1",
    # Each worker's Ray is its own, as measured so far; a benchmark of the machine-wide
    # head (bench_startup) sets "machine" and a state directory of its own.
    "DELUGE_RAY_LOCAL": "process",
}

for _name, _value in BENCH_ENV.items():
    os.environ.setdefault(_name, _value)


# ---------------------------------------------------------------------------- the machine
def machine_info() -> dict[str, Any]:
    """Cores, CPU model, RAM, load, versions and date: stated at the top of every result."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram_gb = None
    try:
        with open("/proc/meminfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    ram_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                    break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "date_utc": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "cores": os.cpu_count(),
        "cores_usable": usable,
        "cpu": cpu,
        "ram_gb": ram_gb,
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": _versions(),
        "git_commit": _git_commit(),
    }


def _versions() -> dict[str, str | None]:
    from importlib import metadata

    out: dict[str, str | None] = {}
    for dist in ("deluge-ray", "lm-deluge", "ray", "aiohttp"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = None
    return out


def _git_commit() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO_DIR,
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


# ---------------------------------------------------------------------------- the mock
class MockServer:
    """A ``MockProvider`` in its own process (see ``_mock_host.py``); a context manager.

    >>> with MockServer(rpm=3000, latency_ms=200) as mock:   # doctest: +SKIP
    ...     mock.openai_base_url, mock.stats()["requests"]
    """

    def __init__(self, **config: Any) -> None:
        self.config = config
        self.url = ""
        self.pid = 0
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()

    @property
    def openai_base_url(self) -> str:
        return f"{self.url}/v1"

    def start(self) -> MockServer:
        self._proc = subprocess.Popen(
            [sys.executable, str(BENCH_DIR / "_mock_host.py"), "--config", json.dumps(self.config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, **BENCH_ENV},
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line.startswith("READY "):
            self.stop()
            raise RuntimeError(f"mock server did not start (said {line!r})")
        self.url = line.split(None, 1)[1].strip()
        self.pid = self._proc.pid
        return self

    def stats(self) -> dict[str, Any]:
        """The mock's counters plus its ``timeline`` samples (see ``_mock_host.py``)."""
        assert self._proc is not None and self._proc.stdin and self._proc.stdout
        with self._lock:
            self._proc.stdin.write("stats\n")
            self._proc.stdin.flush()
            return json.loads(self._proc.stdout.readline())

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.stdin:
                proc.stdin.write("quit\n")
                proc.stdin.close()
            proc.wait(timeout=10)
        except (OSError, ValueError, subprocess.TimeoutExpired):
            proc.kill()
            proc.wait(timeout=10)

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------- workers
class Worker:
    """A running worker subprocess: ``python <script> --worker <side> --params <json>``."""

    def __init__(
        self,
        script: str | Path,
        side: str,
        params: dict[str, Any],
        *,
        env: dict[str, str] | None = None,
        label: str | None = None,
        sample_memory: bool = True,
    ) -> None:
        LOGS_DIR.mkdir(parents=True, exist_ok=True)
        self.label = label or f"{Path(script).stem}-{side}"
        self.log_path = LOGS_DIR / f"{self.label}.log"
        fd, self.result_path = tempfile.mkstemp(prefix="bench-", suffix=".json")
        os.close(fd)
        self._log = open(self.log_path, "w", encoding="utf-8")
        cmd = [
            sys.executable,
            str(script),
            "--worker",
            side,
            "--params",
            json.dumps(params),
            "--result",
            self.result_path,
        ]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **BENCH_ENV, **(env or {})},
            cwd=REPO_DIR,
            # Its own process group, so that a timeout can end the worker and anything it
            # started (an embedded Ray) without touching any other process.
            start_new_session=True,
        )
        self.sampler = TreeMemorySampler(self.proc.pid) if sample_memory else None
        if self.sampler:
            self.sampler.start()

    def wait(self, timeout: float = 1800) -> dict[str, Any]:
        """The worker's result dict (raises with the log's tail when it failed)."""
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = None
        finally:
            if self.sampler:
                self.sampler.stop()
            self._log.close()
        wall = time.perf_counter() - self.started
        try:
            with open(self.result_path, encoding="utf-8") as fh:
                text = fh.read()
            result = json.loads(text) if text.strip() else None
        finally:
            os.unlink(self.result_path)
        if code != 0 or result is None:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            why = "timed out" if code is None else f"exited with {code}"
            raise RuntimeError(f"worker {self.label} {why}; log {self.log_path}:\n{tail}")
        result["process_wall_s"] = round(wall, 2)
        if self.sampler:
            result["tree_peak_rss_mb"] = round(self.sampler.peak_tree_mb, 1)
        return result

    def kill(self) -> None:
        """End the worker's process group (the worker and whatever it started)."""
        try:
            os.killpg(self.proc.pid, 9)
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait(timeout=30)


def run_worker(
    script: str | Path,
    side: str,
    params: dict[str, Any],
    *,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
    label: str | None = None,
) -> dict[str, Any]:
    """Run one worker to completion and return its result."""
    worker = Worker(script, side, params, env=env, label=label)
    try:
        return worker.wait(timeout)
    finally:
        if worker.proc.poll() is None:
            worker.kill()


def worker_entry(sides: dict[str, Callable[[dict[str, Any]], dict[str, Any]]]) -> bool:
    """If this process was started as a worker, run the side it names and return True.

    The side's function gets the params and returns its numbers; the driver's peak RSS
    is added here, after it returned, so it covers the whole run.
    """
    if "--worker" not in sys.argv:
        return False
    args = sys.argv
    side = args[args.index("--worker") + 1]
    params = json.loads(args[args.index("--params") + 1])
    result_path = args[args.index("--result") + 1]
    result = sides[side](params)
    result["side"] = side
    result["driver_peak_rss_mb"] = peak_rss_mb_self()
    with open(result_path, "w", encoding="utf-8") as fh:
        json.dump(result, fh)
    return True


def finish_worker() -> None:
    """Leave at once once the result is written.

    Interpreter teardown of a client with thousands of finished tasks (or an embedded Ray)
    can take seconds; it is not part of what is measured, and ``os._exit`` also ends any
    non-daemon thread a library left behind.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    ray = sys.modules.get("ray")  # only a worker that used Ray has it imported
    if ray is not None:
        try:
            if ray.is_initialized():
                ray.shutdown()
        except Exception:
            pass
    os._exit(0)


# ---------------------------------------------------------------------------- clients
def cpu_roots(params: dict[str, Any]) -> dict[str, int]:
    """The processes whose CPU a worker accounts for: itself, and the mock if it was told."""
    roots = {"driver": os.getpid()}
    if params.get("mock_pid"):
        roots["mock"] = int(params["mock_pid"])
    return roots


def prompts(n: int, tag: str = "p") -> list[str]:
    """``n`` distinct short prompts (distinct, so deluge_ray's in-flight merging never applies)."""
    return [f"[{tag}-{i}] Reply with one short sentence about the number {i}." for i in range(n)]


def lm_deluge_client(base_url: str, **kwargs: Any) -> Any:
    """An lm-deluge client whose model points at ``base_url`` (the mock's ``/v1``).

    lm-deluge 0.0.168 does not read ``OPENAI_BASE_URL``: a model's endpoint is its
    registry entry's ``api_base``, so the benchmark model is registered with the mock as
    ``api_base`` and the same wire name (``gpt-4.1-mini``) as deluge_ray sends.
    """
    import lm_deluge
    from lm_deluge.models import register_model, registry

    if LM_MODEL_ID not in registry:
        register_model(
            id=LM_MODEL_ID,
            name=MODEL,
            api_base=base_url,
            api_key_env_var="OPENAI_API_KEY",
            api_spec="openai",
            provider="openai",
            supports_json=True,
        )
    kwargs.setdefault("progress", "manual")
    return lm_deluge.LLMClient(LM_MODEL_ID, **kwargs)


def deluge_ray_client(base_url: str, **kwargs: Any) -> Any:
    """A deluge_ray client whose OpenAI models point at ``base_url``.

    This is what ``deluge_ray.mock.use_mock`` does for an in-process mock; the mock here
    runs in another process, so the variable is set directly (and stays set for the
    worker's life, which is all the worker does).
    """
    os.environ["OPENAI_BASE_URL"] = base_url
    from deluge_ray import LLMClient

    kwargs.setdefault("progress", "manual")
    return LLMClient(MODEL, **kwargs)


def wait_for_callers(client: Any) -> None:
    """Block until every ProviderCaller of a deluge_ray client answers a ping.

    A default-sized pool starts one caller and adds the rest when its first answer comes
    back (so a cold single call is short). Steady-state benchmarks call this after their
    warm-up prompt, so the measured batch does not include worker processes starting,
    just as it does not include Ray's own start.
    """
    import ray

    ray.get([caller.ping.remote() for caller in client._engine.pool.live_callers()], timeout=120)


def limiter_stats(client: Any = None) -> dict[str, Any] | None:
    """The RateLimiter actor's ``stats()`` for a deluge_ray client, or with no client the
    first limiter in the connected cluster (``{"error": ...}`` if unreachable)."""
    try:
        import ray

        names = [r.limiter_name for r in (client._routes or ())] if client is not None else []
        if not names:
            names = [
                a["name"]
                for a in ray.util.list_named_actors(all_namespaces=True)
                if a["name"].startswith("limiter:")
            ]
        handle = ray.get_actor(names[0], namespace="deluge_ray")
        return ray.get(handle.stats.remote(), timeout=30)
    except Exception as exc:  # reported, never fatal: the figure is then "n/a"
        return {"error": f"{type(exc).__name__}: {exc}"}


def response_summary(responses: Iterable[Any]) -> dict[str, Any]:
    """Counts of a batch's responses: total, errors, and the first error message."""
    total = errors = 0
    first_error = None
    for r in responses:
        total += 1
        if r is None or getattr(r, "is_error", False):
            errors += 1
            if first_error is None:
                first_error = (getattr(r, "error_message", None) or "None result")[:300]
    return {"prompts": total, "failed": errors, "first_error": first_error}


# ---------------------------------------------------------------------------- rate series
def second_series(stats: dict[str, Any], start: float, end: float) -> list[dict[str, Any]]:
    """Per-second traffic the mock saw in ``[start, end]`` (unix times).

    ``received``: requests arriving in that second (the mock's ``per_second``).
    ``accepted``: responses other than 429 finished in that second, i.e. served;
    ``rate_limited``: 429s sent in that second (both from ``finished_per_second``, see
    ``_mock_host.py``). Without that breakdown, 429s come from the sampled counter and
    ``accepted`` is ``received`` minus them (coarser: a sample can lag by 0.25 s).
    """
    received = {int(k): v for k, v in stats.get("per_second", {}).items()}
    finished = stats.get("finished_per_second")
    served: dict[int, int] = {}
    limited: dict[int, int] = {}
    if finished is not None:
        for second, by_status in finished.items():
            limited[int(second)] = by_status.get("429", 0)
            served[int(second)] = sum(v for k, v in by_status.items() if k != "429")
    else:
        previous = None
        for t, _requests, rl in stats.get("timeline", []):
            if previous is not None and rl > previous:
                limited[int(t)] = limited.get(int(t), 0) + rl - previous
            previous = rl
        served = {s: max(0, n - limited.get(s, 0)) for s, n in received.items()}
    out = []
    for second in range(int(start), int(end) + 1):
        out.append(
            {
                "t": second - int(start),
                "unix": second,
                "received": received.get(second, 0),
                "rate_limited": limited.get(second, 0),
                "accepted": served.get(second, 0),
            }
        )
    return out


# Steady state: the first RAMP_SECONDS after a batch starts are ramp-up (a paced limiter
# starts with no credit, lm-deluge starts with a full bucket) and the last TAIL_SECONDS are
# the drain (the final responses, a partial second), so neither is counted.
RAMP_SECONDS = 3
TAIL_SECONDS = 2


def steady_state(series: list[dict[str, Any]], limit_rps: float) -> dict[str, Any]:
    """Mean accepted requests/s over the steady window, and as % of the limit."""
    active = [i for i, row in enumerate(series) if row["received"] or row["accepted"]]
    if not active:
        return {"steady_rps": 0.0, "steady_pct_of_limit": 0.0, "steady_seconds": 0}
    first, last = active[0], active[-1]
    lo, hi = first + RAMP_SECONDS, last - TAIL_SECONDS
    note = None
    if hi - lo + 1 < 3:
        # The batch ended too soon for a steady window (e.g. prompts gave up): use it all.
        lo, hi = first, last
        note = "run too short for a steady window: whole run used"
    window = series[lo : hi + 1]
    rps = sum(row["accepted"] for row in window) / len(window)
    out = {
        "steady_rps": round(rps, 2),
        "steady_pct_of_limit": round(100.0 * rps / limit_rps, 1),
        "steady_seconds": len(window),
        "steady_window_t": [series[lo]["t"], series[hi]["t"]],
    }
    if note:
        out["note"] = note
    return out


# ---------------------------------------------------------------------------- output
def write_json(name: str, data: dict[str, Any]) -> Path:
    """``benchmarks/results/<name>.json``."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.json"
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=2)
        fh.write("\n")
    return path
