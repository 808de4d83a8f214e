"""Ray Data: deluge_ray's ``process_dataset`` next to ``ray.data.llm``'s HTTP processor.

Run:  python benchmarks/bench_ray_data.py [--quick] [--part limit|scale] [--scale-rows N,...]

Each side runs in a worker process of its own (its own Ray), the mock provider in another.

* **limit** -- the mock allows 3,000 requests/minute over one-second windows and answers in
  200 ms. ``rows`` rows (1,500; quick 150) go through ``client.process_dataset`` (client at
  3,000 RPM: its shared limiter paces every actor), and through ``ray.data.llm``'s
  ``HttpRequestProcessorConfig`` with the best configuration found (``RAY_LLM_CONFIG``; what
  was tried is in ``RAY_LLM_TRIED``), each against a fresh mock. Figures from the mock's
  counters: the steady served rate as % of the limit (as in ``bench_saturation``), the
  whole job's wall time (pool start-up included), % of requests answered 429, failed rows
  (Ray's processor fails the whole job when one row runs out of retries: ``job failed``).
* **scale** -- no limit, no latency: ``ray.data.range(n)`` -> prompts -> ``process_dataset``
  (``SCALE_ACTORS`` actors) -> ``write_parquet``, for each ``n`` (100,000 and 1,000,000;
  quick 2,000 and 8,000), in one worker. Figures: rows/s, and the peak RSS during that
  run of the driver and of each stage actor (``/proc`` sampled every 0.5 s): memory must
  not grow with the row count. Nothing is compared here (Ray's processor has no
  equivalent figure of interest): the ratio column compares the two sizes.

Writes ``results/ray_data.json``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LIMIT_RPM = 3_000
LIMIT_RPS = LIMIT_RPM / 60
LATENCY_MS = 200
ACTOR_MARKER = "DatasetCaller"
SCALE_ACTORS = 2
SCALE_BLOCK_ROWS = 10_000
#: ray.data.llm's HTTP processor as run: a fixed pool of ``concurrency`` actors (a tuple: an
#: int lets the pool start at one actor and grow), ``batch_size``, ``qps``, ``max_retries`` and
#: CPUs per actor (its ``http_request_stage`` option). See RAY_LLM_TRIED for why.
RAY_LLM_CONFIG = {
    "concurrency": (10, 10),
    "batch_size": 4,
    "qps": None,
    "max_retries": 8,
    "num_cpus": 0.1,
}
#: What was tried for Ray's processor, and what it measured (300 or 200 rows, this mock, on
#: the 2-core machine under a load average of ~20 from other jobs). Reading its stage
#: (``ray/llm/_internal/batch/stages/http_request_stage.py``): the requests of one batch go
#: one after another (``session.post`` is only awaited in the receive loop), so a batch
#: moves at one request per latency (~5/s at 200 ms), and ``qps`` paces the creation of
#: requests not yet sent, which only delays a batch's first send. Throughput is how many
#: batches are in flight at once, so: many small batches on many cheap actors, no qps.
RAY_LLM_TRIED = [
    "documented pattern, 4 actors at 1 CPU, qps = limit / 4, batch 16, 5 retries: 1,500 "
    "rows in 386 s, 8% of the limit (issue 17; on 2 cores only 2 such actors run)",
    "concurrency=4 (a pool growing from 1), batch 4, qps None, 0.25 CPU per actor, 8 "
    "retries: 200 rows in 80 s, 8.7% of the limit (steady), no 429",
    "concurrency=(10, 10), batch 4, qps None, 0.1 CPU per actor, 8 retries: 300 rows in "
    "107 s, 14.9% of the limit (steady), no 429; 1,500 rows in 115 s, 75% (steady, once "
    "its ten actors had started), no 429 -- the best found, used here",
    "concurrency=(8, 8), batch 16, 0.2 CPU per actor: hung -- the processor's preprocess "
    "step needs a whole CPU, and 8 actors at 0.2 leave less than one on 2 cores",
    "max_retries raised from 5 to 8 throughout: a row out of retries fails the whole job",
]

TARGETS = {
    "pct_of_limit": 95.0,
    "pct_429": 1.0,
    "failed_rows": 0,
    "rss_growth": 1.25,  # peak RSS at the largest size / at the smallest, at most
}


def _start_ray() -> Any:
    import ray
    import ray.data

    ray.init(namespace="deluge_ray", include_dashboard=False, log_to_driver=False)
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    return ray


def _rows(n: int) -> list[dict[str, Any]]:
    return [
        {"id": i, "prompt": f"[ray-data-{i}] Summarise item {i} in one line."} for i in range(n)
    ]


def _count_true(ds: Any, column: str) -> int:
    """Rows where ``column`` is true, in one streaming pass (``Dataset.sum`` shuffles)."""
    return sum(int(b[column].sum()) for b in ds.select_columns([column]).iter_batches())


class ProcessMemory(threading.Thread):
    """Peak RSS (MB) of this process and of every process whose command line names the
    stage's actors, sampled from /proc every ``interval`` seconds until :meth:`stop`."""

    def __init__(self, marker: str, interval: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.marker = marker.encode()
        self.interval = interval
        self.driver_peak = 0.0
        self.actor_peaks: dict[int, float] = {}
        self._halt = threading.Event()

    @staticmethod
    def _rss_mb(pid: int | str) -> float | None:
        try:
            with open(f"/proc/{pid}/status", encoding="ascii") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024
        except OSError:
            return None
        return None

    def _scan(self) -> None:
        own = self._rss_mb(os.getpid())
        if own is not None:
            self.driver_peak = max(self.driver_peak, own)
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if self.marker not in fh.read():
                        continue
            except OSError:
                continue
            mb = self._rss_mb(entry)
            if mb is not None:
                self.actor_peaks[int(entry)] = max(self.actor_peaks.get(int(entry), 0.0), mb)

    def run(self) -> None:
        self._scan()
        while not self._halt.wait(self.interval):
            self._scan()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        self._scan()


#: Disk one output row may take, with room to spare: measured ~27 bytes per row of Parquet
#: (snappy) for these prompts and replies, plus what Ray may spill while it writes.
DISK_BYTES_PER_ROW = 1_000


def _check_disk(path: str, rows: int) -> None:
    """Refuse, before it starts, a run whose output could fill the disk."""
    free = shutil.disk_usage(path).free
    need = rows * DISK_BYTES_PER_ROW
    if free < need:
        raise RuntimeError(
            f"{rows:,} rows need up to {need / 2**30:.1f} GiB free under {path}; "
            f"{free / 2**30:.1f} GiB are. Pass another directory (TMPDIR)."
        )


# ---------------------------------------------------------------------------- workers
def deluge_ray_limit(params: dict[str, Any]) -> dict[str, Any]:
    ray = _start_ray()
    from deluge_ray import LLMClient

    client = LLMClient(
        C.MODEL,
        max_requests_per_minute=LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_new_tokens=32,
        progress="manual",
    )
    start = time.time()
    out = client.process_dataset(
        ray.data.from_items(_rows(params["n"])), expected_latency_s=LATENCY_MS / 1000
    ).materialize()
    end = time.time()
    failed = _count_true(out, "is_error")
    limiter = C.limiter_stats()
    client.shutdown()
    return {
        "batch_start": start,
        "batch_end": end,
        "failed": failed,
        "limiter_lease_calls": (limiter or {}).get("lease_calls"),
    }


def ray_llm_limit(params: dict[str, Any]) -> dict[str, Any]:
    ray = _start_ray()
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    cfg = params["config"]
    config = HttpRequestProcessorConfig(
        url=f"{params['base_url']}/chat/completions",
        headers={"Authorization": f"Bearer {C.API_KEY}"},
        qps=cfg["qps"],
        max_retries=cfg["max_retries"],
        batch_size=cfg["batch_size"],
        concurrency=tuple(cfg["concurrency"])
        if isinstance(cfg["concurrency"], list)
        else cfg["concurrency"],
        http_request_stage={"num_cpus": cfg["num_cpus"]},
    )
    processor = build_processor(
        config,
        preprocess=lambda row: {
            "payload": {
                "model": C.MODEL,
                "messages": [{"role": "user", "content": row["prompt"]}],
                "max_tokens": 32,
            }
        },
        postprocess=lambda row: {"ok": bool(row["http_response"].get("choices"))},
    )
    start = time.time()
    try:
        out = processor(ray.data.from_items(_rows(params["n"]))).materialize()
        failed: int | str = params["n"] - _count_true(out, "ok")
    except Exception as exc:  # a row out of retries fails the whole job
        failed = f"job failed: {type(exc).__name__}"
    end = time.time()
    return {"batch_start": start, "batch_end": end, "failed": failed}


def deluge_ray_scale(params: dict[str, Any]) -> dict[str, Any]:
    ray = _start_ray()
    from deluge_ray import LLMClient

    client = LLMClient(
        C.MODEL,
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=2_000,
        max_new_tokens=16,
        progress="manual",
    )
    runs = []
    for n in params["sizes"]:
        out_dir = tempfile.mkdtemp(prefix="bench-ray-data-", dir=params.get("tmp_dir"))
        _check_disk(out_dir, n)
        try:
            # Blocks of at most SCALE_BLOCK_ROWS rows: with Ray's default (4 blocks on 2
            # CPUs) a block is a quarter of the run, and the pool never grows past one actor.
            blocks = max(4, -(-n // SCALE_BLOCK_ROWS))
            ds = ray.data.range(n, override_num_blocks=blocks).map_batches(
                lambda b: {"id": b["id"], "prompt": [f"row {i}" for i in b["id"]]}
            )
            sampler = ProcessMemory(ACTOR_MARKER)
            sampler.start()
            started = time.perf_counter()
            # Two actors: on the 2-core machines the mock and the driver need the rest.
            stage = client.process_dataset(ds, batch_size=256, max_actors=SCALE_ACTORS)
            stage.write_parquet(out_dir)
            elapsed = time.perf_counter() - started
            sampler.stop()
            written = ray.data.read_parquet(out_dir).select_columns(["is_error"])
            rows_written = errors = 0
            for batch in written.iter_batches():
                rows_written += len(batch["is_error"])
                errors += int(batch["is_error"].sum())
            disk_mb = sum(p.stat().st_size for p in Path(out_dir).rglob("*")) / 2**20
        finally:
            shutil.rmtree(out_dir, ignore_errors=True)
        runs.append(
            {
                "rows": n,
                "rows_written": rows_written,
                "error_rows": errors,
                "seconds": round(elapsed, 1),
                "rows_per_s": round(n / elapsed),
                "parquet_mb": round(disk_mb, 1),
                "driver_peak_rss_mb": round(sampler.driver_peak),
                "actor_peak_rss_mb": sorted(round(v) for v in sampler.actor_peaks.values()),
                "load_avg_1m": round(os.getloadavg()[0], 2),
            }
        )
    client.shutdown()
    return {"runs": runs}


SIDES = {
    "deluge_ray_limit": deluge_ray_limit,
    "ray_llm_limit": ray_llm_limit,
    "deluge_ray_scale": deluge_ray_scale,
}


# ---------------------------------------------------------------------------- orchestrator
def _limit_side(side: str, n: int, config: dict[str, Any] | None = None) -> dict[str, Any]:
    with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
        params = {"base_url": mock.openai_base_url, "n": n, "config": config}
        result = C.run_worker(
            __file__,
            side,
            params,
            env={"OPENAI_BASE_URL": mock.openai_base_url},
            label=f"ray-data-{side}",
            timeout=1800,
        )
        stats = mock.stats()
    received, limited = stats["requests"], stats["rate_limited"]
    result["requests"] = received
    result["rate_limited"] = limited
    result["pct_429"] = round(100.0 * limited / received, 2) if received else 0.0
    series = C.second_series(stats, result["batch_start"], result["batch_end"])
    result.update(C.steady_state(series, LIMIT_RPS))
    result["series"] = series
    result["job_s"] = round(result["batch_end"] - result["batch_start"], 1)
    return result


def run(
    quick: bool = False, parts: tuple[str, ...] = ("limit", "scale"), scale_rows: Any = None
) -> dict[str, Any]:
    rows = 150 if quick else 1_500
    sizes = list(scale_rows or ([2_000, 8_000] if quick else [100_000, 1_000_000]))
    report: dict[str, Any] = {
        "benchmark": "ray_data",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "limit_rpm": LIMIT_RPM,
            "latency_ms": LATENCY_MS,
            "rows": rows,
            "ray_llm": RAY_LLM_CONFIG,
            "ray_llm_tried": RAY_LLM_TRIED,
            "scale_sizes": sizes,
            "scale_actors": SCALE_ACTORS,
        },
        "load_avg_before": round(os.getloadavg()[0], 2),
    }
    if "limit" in parts:
        report["deluge_ray"] = _limit_side("deluge_ray_limit", rows)
        report["ray_llm"] = _limit_side("ray_llm_limit", rows, RAY_LLM_CONFIG)
    if "scale" in parts:
        with C.MockServer() as mock:
            params = {"base_url": mock.openai_base_url, "sizes": sizes}
            report["scale"] = C.run_worker(
                __file__,
                "deluge_ray_scale",
                params,
                env={"OPENAI_BASE_URL": mock.openai_base_url},
                label="ray-data-scale",
                timeout=7200,
            )
    C.write_json("ray_data", report)
    return report


def _yes(ok: bool) -> str:
    return "yes" if ok else "no"


def _limit_table(report: dict[str, Any]) -> list[str]:
    dr, rl = report["deluge_ray"], report["ray_llm"]
    cfg = report["config"]
    failed_ok = dr["failed"] == TARGETS["failed_rows"]
    rows = [
        [
            "steady served rate, % of the limit",
            dr["steady_pct_of_limit"],
            rl["steady_pct_of_limit"],
            C.ratio(dr["steady_pct_of_limit"], rl["steady_pct_of_limit"]),
        ],
        [
            "whole job (s, pool start-up included)",
            dr["job_s"],
            rl["job_s"],
            C.ratio(dr["job_s"], rl["job_s"]),
        ],
        ["requests the mock received", dr["requests"], rl["requests"], ""],
        ["% answered 429", dr["pct_429"], rl["pct_429"], ""],
        [f"failed rows (of {cfg['rows']:,})", dr["failed"], rl["failed"], ""],
    ]
    finished_first = isinstance(rl["failed"], str) or dr["job_s"] < rl["job_s"]
    targets = [
        [
            "deluge_ray >= 95% of the limit (steady)",
            _yes(dr["steady_pct_of_limit"] >= TARGETS["pct_of_limit"]),
        ],
        ["deluge_ray <= 1% 429s", _yes(dr["pct_429"] <= TARGETS["pct_429"])],
        ["deluge_ray 0 failed rows", _yes(failed_ok)],
        ["deluge_ray finished before Ray's processor", _yes(finished_first)],
    ]
    rl_cfg = cfg["ray_llm"]
    return [
        f"{cfg['rows']:,} rows; mock limit {cfg['limit_rpm']:,} RPM over 1 s windows, "
        f"{cfg['latency_ms']} ms latency; each side in its own process, Ray and mock. "
        f"deluge_ray: `process_dataset` on a client at {cfg['limit_rpm']:,} RPM (defaults "
        "otherwise). ray.data.llm: `HttpRequestProcessorConfig(concurrency="
        f"{rl_cfg['concurrency']}, batch_size={rl_cfg['batch_size']}, qps={rl_cfg['qps']}, "
        f"max_retries={rl_cfg['max_retries']})`, {rl_cfg['num_cpus']} CPU per actor.",
        "",
        C.md_table(["", "deluge_ray", "ray.data.llm", "ratio"], rows),
        "",
        C.md_table(["target", "met"], targets),
        "",
        "Ray's processor, configurations tried:",
        "",
        *[f"- {line}" for line in cfg["ray_llm_tried"]],
    ]


def _scale_table(report: dict[str, Any]) -> list[str]:
    runs = report["scale"]["runs"]
    small, large = runs[0], runs[-1]

    def peak(run: dict[str, Any]) -> int:
        return max(run["actor_peak_rss_mb"], default=0)

    rows = [
        [
            "rows/s",
            small["rows_per_s"],
            large["rows_per_s"],
            C.ratio(large["rows_per_s"], small["rows_per_s"]),
        ],
        ["seconds", small["seconds"], large["seconds"], ""],
        [
            "driver peak RSS (MB)",
            small["driver_peak_rss_mb"],
            large["driver_peak_rss_mb"],
            C.ratio(large["driver_peak_rss_mb"], small["driver_peak_rss_mb"]),
        ],
        [
            "each actor's peak RSS (MB)",
            small["actor_peak_rss_mb"],
            large["actor_peak_rss_mb"],
            C.ratio(peak(large), peak(small)),
        ],
        [
            "rows written / error rows",
            f"{small['rows_written']:,} / {small['error_rows']}",
            f"{large['rows_written']:,} / {large['error_rows']}",
            "",
        ],
        ["Parquet written (MB)", small["parquet_mb"], large["parquet_mb"], ""],
        ["load average (1 min) at the end", small["load_avg_1m"], large["load_avg_1m"], ""],
    ]
    growth = TARGETS["rss_growth"]
    flat_driver = large["driver_peak_rss_mb"] <= growth * small["driver_peak_rss_mb"]
    flat_actor = peak(large) <= growth * peak(small)
    every_row = all(r["rows_written"] == r["rows"] and r["error_rows"] == 0 for r in runs)
    targets = [
        [
            f"driver peak RSS flat (at most {growth}x from the smallest to the largest)",
            _yes(flat_driver),
        ],
        [f"actor peak RSS flat (at most {growth}x)", _yes(flat_actor)],
        ["every row written, none an error", _yes(every_row)],
    ]
    return [
        f"No limit, no latency: `ray.data.range(n)` -> prompts -> `process_dataset` "
        f"({report['config']['scale_actors']} actors, batch 256) -> `write_parquet`, "
        "one driver process for every size; peak RSS during each run (/proc, every 0.5 s).",
        "",
        C.md_table(["", f"{small['rows']:,} rows", f"{large['rows']:,} rows", "ratio"], rows),
        "",
        C.md_table(["target", "met"], targets),
    ]


def markdown(report: dict[str, Any]) -> str:
    lines = ["## Ray Data: process_dataset and ray.data.llm's HTTP processor", ""]
    if "deluge_ray" in report:
        lines += ["### At a rate limit", "", *_limit_table(report), ""]
    if "scale" in report:
        lines += ["### A million rows to Parquet", "", *_scale_table(report), ""]
    lines.append(f"Load average (1 min) when the run started: {report['load_avg_before']}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small row counts")
    parser.add_argument("--part", choices=("limit", "scale"), help="run one part only")
    parser.add_argument("--scale-rows", help="comma-separated sizes of the scale part")
    args = parser.parse_args()
    parts = (args.part,) if args.part else ("limit", "scale")
    sizes = [int(s) for s in args.scale_rows.split(",")] if args.scale_rows else None
    print(markdown(run(args.quick, parts, sizes)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
