"""Throughput of the mock provider itself: requests/s on one core with zero latency.

The server runs in its own process pinned to CPU 0 (``python -m deluge_ray.mock``); the load
generator runs in this process, pinned to CPU 1 when there is one, with one keep-alive
aiohttp session and a fixed number of requests in flight. Later benchmarks use the figure
to tell when the mock, rather than the client, is the bottleneck.

    python benchmarks/bench_mock.py --seconds 15 --concurrency 64

Writes ``benchmarks/results/mock.json`` and prints one summary line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

RESULTS = Path(__file__).resolve().parent / "results" / "mock.json"
PAYLOAD = {
    "model": "gpt-4.1-mini",
    "messages": [{"role": "user", "content": "Give me one short fact about rivers."}],
}


def _start_server() -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "DELUGE_RAY_TOKENIZER": os.environ.get("DELUGE_RAY_TOKENIZER", "estimate")}
    server = subprocess.Popen(
        [sys.executable, "-m", "deluge_ray.mock", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: os.sched_setaffinity(0, {0}),
    )
    assert server.stdout is not None
    for line in server.stdout:
        if "listening on" in line:
            return server, line.split("listening on ")[1].strip()
    raise RuntimeError("the mock server exited before it started listening")


async def _load(url: str, seconds: float, concurrency: int, warmup: float) -> dict[str, float]:
    endpoint = f"{url}/v1/chat/completions"
    headers = {"Authorization": "Bearer bench-key"}
    connector = aiohttp.TCPConnector(limit=concurrency)
    counts = {"ok": 0, "other": 0}
    async with aiohttp.ClientSession(connector=connector) as session:
        loop = asyncio.get_running_loop()
        measure_from = loop.time() + warmup
        stop_at = measure_from + seconds

        async def worker() -> None:
            while loop.time() < stop_at:
                async with session.post(endpoint, json=PAYLOAD, headers=headers) as response:
                    await response.read()
                    if loop.time() >= measure_from:
                        counts["ok" if response.status == 200 else "other"] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"ok": counts["ok"], "errors": counts["other"], "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    if (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    server, url = _start_server()
    try:
        started = time.time()
        counts = asyncio.run(_load(url, args.seconds, args.concurrency, args.warmup))
        stats = json.loads(_fetch(f"{url}/_mock/stats"))
    finally:
        server.terminate()
        server.wait(timeout=10)
    rate = counts["ok"] / args.seconds
    result = {
        "benchmark": "mock provider throughput (chat completions, zero latency, server on 1 core)",
        "requests_per_second": round(rate, 1),
        "requests_measured": counts["ok"],
        "non_200": counts["errors"],
        "seconds": args.seconds,
        "concurrency": args.concurrency,
        "server_requests_total": stats["requests"],
        "server_peak_concurrency": stats["peak_concurrency"],
        "started_at": started,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "note": "shared 2-core build machine; other jobs may have been running",
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"mock throughput: {rate:.0f} req/s on one core "
        f"({counts['ok']} requests in {args.seconds:g} s, concurrency {args.concurrency})"
    )
    return 0


def _fetch(url: str) -> bytes:
    import urllib.request

    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


if __name__ == "__main__":
    raise SystemExit(main())
