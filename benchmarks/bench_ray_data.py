"""Ray Data: deluge_ray's ``process_dataset`` next to ``ray.data.llm``'s HTTP processor.

Run:  python benchmarks/bench_ray_data.py [--quick] [--skip-ray-llm]

Two parts, one Ray cluster started by this script, the mock provider in a process of its own:

* **limit** -- the mock allows 3,000 requests/minute over one-second windows and answers in
  200 ms. ``rows_limit`` rows (1,500; quick 300) go through ``client.process_dataset`` (client
  at 3,000 RPM, its shared limiter pacing every actor), then through ``ray.data.llm``'s
  ``HttpRequestProcessorConfig`` in each configuration of ``RAY_LLM_CONFIGS`` (the limit split
  evenly between its actors as its ``qps``, since each actor paces alone). Figures: wall time,
  served rate as % of the limit (successful rows / time / 50 per s), % of requests answered
  429 (the mock's counters) and failed rows (for Ray's processor a row out of retries fails
  the whole job, reported as ``job failed``).
* **scale** -- no limit, no latency: ``ray.data.range(n)`` -> prompts ->
  ``process_dataset`` (``SCALE_ACTORS`` actors) -> ``write_parquet``, for each ``n`` of ``scale_rows`` (100,000 and
  1,000,000; quick 10,000 and 40,000). Figures: rows/s, peak RSS of the driver and the
  largest peak RSS among the stage's actor processes (sampled from /proc every 0.5 s), to
  show memory does not grow with the row count.

Writes ``results/ray_data.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

LIMIT_RPM = 3_000
LATENCY_MS = 200
#: (actors, batch_size, max_retries) of ray.data.llm's processor; qps = limit / actors.
RAY_LLM_CONFIGS = [(4, 16, 5), (8, 8, 5)]
ACTOR_MARKER = "DatasetCaller"
SCALE_ACTORS = 2


def _start_ray() -> Any:
    import ray
    import ray.data

    ray.init(
        namespace="deluge_ray",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    return ray


def _rows(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "prompt": f"Summarise item {i} in one line."} for i in range(n)]


class ActorMemory(threading.Thread):
    """Peak RSS (MB) of every process whose command line names the stage's actors."""

    def __init__(self, marker: str) -> None:
        super().__init__(daemon=True)
        self.marker = marker.encode()
        self.peaks: dict[int, float] = {}
        self.halt = threading.Event()

    def _scan(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if self.marker not in fh.read():
                        continue
                with open(f"/proc/{entry}/status", encoding="ascii") as fh:
                    for line in fh:
                        if line.startswith("VmRSS:"):
                            mb = int(line.split()[1]) / 1024
                            self.peaks[int(entry)] = max(self.peaks.get(int(entry), 0.0), mb)
                            break
            except OSError:
                continue

    def run(self) -> None:
        while not self.halt.wait(0.5):
            self._scan()


def _count_true(ds: Any, column: str) -> int:
    """Rows where ``column`` is true, in one streaming pass (``Dataset.sum`` shuffles)."""
    return sum(int(b[column].sum()) for b in ds.select_columns([column]).iter_batches())


def _mock_counts(mock: C.MockServer) -> tuple[int, int]:
    stats = mock.stats()
    return stats["requests"], stats["rate_limited"]


def run_deluge_limit(mock: C.MockServer, n: int) -> dict[str, Any]:
    import ray.data

    from deluge_ray import LLMClient

    client = LLMClient(
        C.MODEL,
        max_requests_per_minute=LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_new_tokens=32,
        progress="manual",
    )
    sent0, limited0 = _mock_counts(mock)
    started = time.perf_counter()
    out = client.process_dataset(
        ray.data.from_items(_rows(n)), expected_latency_s=LATENCY_MS / 1000
    ).materialize()
    elapsed = time.perf_counter() - started
    errors = _count_true(out, "is_error")
    sent, limited = _mock_counts(mock)
    client.shutdown()
    return _limit_figures(
        "deluge_ray process_dataset",
        n,
        n - errors,
        elapsed,
        sent - sent0,
        limited - limited0,
        failed=errors,
    )


def run_ray_llm_limit(mock: C.MockServer, n: int, actors: int, batch: int, retries: int) -> dict:
    import ray.data
    from ray.data.llm import HttpRequestProcessorConfig, build_processor

    config = HttpRequestProcessorConfig(
        url=f"{mock.openai_base_url}/chat/completions",
        headers={"Authorization": f"Bearer {C.API_KEY}"},
        qps=max(1, LIMIT_RPM // 60 // actors),
        max_retries=retries,
        batch_size=batch,
        concurrency=actors,
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
    label = f"ray.data.llm HTTP ({actors} actors, qps {LIMIT_RPM // 60 // actors}, batch {batch})"
    sent0, limited0 = _mock_counts(mock)
    started = time.perf_counter()
    try:
        out = processor(ray.data.from_items(_rows(n))).materialize()
        served, failed = _count_true(out, "ok"), None
    except Exception as exc:  # a row out of retries fails the whole job
        served, failed = 0, f"job failed: {type(exc).__name__}"
    elapsed = time.perf_counter() - started
    sent, limited = _mock_counts(mock)
    return _limit_figures(
        label,
        n,
        served,
        elapsed,
        sent - sent0,
        limited - limited0,
        failed=failed if failed else n - served,
    )


def _limit_figures(label, n, served, elapsed, sent, limited, *, failed) -> dict[str, Any]:
    return {
        "client": label,
        "rows": n,
        "seconds": round(elapsed, 1),
        "pct_of_limit": round(100 * served / elapsed / (LIMIT_RPM / 60), 1),
        "requests": sent,
        "pct_429": round(100 * limited / sent, 2) if sent else 0.0,
        "failed_rows": failed,
    }


def run_scale(n: int, out_dir: str) -> dict[str, Any]:
    import ray.data

    from deluge_ray import LLMClient

    client = LLMClient(
        C.MODEL,
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=2_000,
        max_new_tokens=16,
        progress="manual",
    )
    ds = ray.data.range(n).map_batches(
        lambda b: {"id": b["id"], "prompt": [f"row {i}" for i in b["id"]]}
    )
    sampler = ActorMemory(ACTOR_MARKER)
    sampler.start()
    started = time.perf_counter()
    # Two actors: on the 2-core machines the mock and the driver need the rest.
    stage = client.process_dataset(ds, batch_size=256, max_actors=SCALE_ACTORS)
    stage.write_parquet(out_dir)
    elapsed = time.perf_counter() - started
    sampler.halt.set()
    sampler.join()
    client.shutdown()
    written = ray.data.read_parquet(out_dir)
    return {
        "rows": n,
        "rows_written": written.count(),
        "error_rows": _count_true(written, "is_error"),
        "seconds": round(elapsed, 1),
        "rows_per_s": round(n / elapsed),
        # ru_maxrss is the peak of this process over its whole life, so it only grows.
        "driver_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "actors": len(sampler.peaks),
        "actor_peak_rss_mb": round(max(sampler.peaks.values(), default=0.0)),
    }


def _save(results: dict[str, Any]) -> None:
    C.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    (C.RESULTS_DIR / "ray_data.json").write_text(json.dumps(results, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small row counts")
    parser.add_argument("--skip-ray-llm", action="store_true", help="deluge_ray only")
    args = parser.parse_args()
    rows_limit = 300 if args.quick else 1_500
    scale_rows = [10_000, 40_000] if args.quick else [100_000, 1_000_000]
    configs = RAY_LLM_CONFIGS[:1] if args.quick else RAY_LLM_CONFIGS

    os.environ["OPENAI_API_KEY"] = C.API_KEY
    _start_ray()
    results: dict[str, Any] = {"machine": C.machine_info(), "limit": [], "scale": []}
    with C.MockServer(rpm=LIMIT_RPM, latency_ms=LATENCY_MS) as mock:
        os.environ["OPENAI_BASE_URL"] = mock.openai_base_url
        results["limit"].append(run_deluge_limit(mock, rows_limit))
        if not args.skip_ray_llm:
            for actors, batch, retries in configs:
                time.sleep(2)  # let the mock's one-second windows empty between clients
                results["limit"].append(run_ray_llm_limit(mock, rows_limit, actors, batch, retries))
        _save(results)  # each part as it ends: a long scale run must not cost the first part
    with C.MockServer() as mock:
        os.environ["OPENAI_BASE_URL"] = mock.openai_base_url
        # Another key, so another limiter: the first part's limiter learnt 3,000 RPM from
        # the limited mock's rate-limit headers and would keep pacing this key at 50/s.
        os.environ["OPENAI_API_KEY"] = f"{C.API_KEY}-scale"
        for n in scale_rows:
            with tempfile.TemporaryDirectory() as out_dir:
                results["scale"].append(run_scale(n, os.path.join(out_dir, "out")))
            _save(results)

    _save(results)
    for part in ("limit", "scale"):
        rows = results[part]
        if rows:
            header = list(rows[0])
            print(C.md_table(header, [[row.get(k) for k in header] for row in rows]), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
