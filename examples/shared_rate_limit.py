"""Two processes, one rate limit: the provider sees their sum stay under the limit.

    python examples/shared_rate_limit.py [--rpm 600] [--prompts 30]

The parent starts Ray (``ray.init()``; it joins RAY_ADDRESS instead when that is set) and
launches this script twice more with ``--worker``. Each worker is an ordinary driver
process: it joins the parent's cluster with ``LLMClient(..., address=...)`` and sends its
own prompts with the full limit configured. Both clients find the same ``RateLimiter``
actor, named after the provider and the API key's fingerprint, so together they pace to
one limit instead of each spending it.

Without OPENAI_API_KEY the parent starts a mock provider that *enforces* the limit the
way providers do (per second, 429 beyond it), and prints what it saw: the combined
requests per second against the limit, and how many requests it refused. Two clients
with separate limiters would each send at the full rate and collect 429s.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable

from deluge_ray import LLMClient, get_model
from deluge_ray.mock import Latency, Limits, MockConfig, MockProvider, use_mock

MODEL = "gpt-4.1-mini"
WORKERS = ("A", "B")


def run_worker(name: str, address: str, rpm: int, prompts: int) -> None:
    """One driver: warm up, wait for the parent's go, send ``prompts`` prompts, report."""
    client = LLMClient(MODEL, max_requests_per_minute=rpm, max_new_tokens=32, address=address)
    # The first prompt starts this driver's Ray actors; after it, both workers are ready
    # to send at once, so they really compete for the limit.
    client.process_prompts_sync([f"worker {name} warming up"], show_progress=False)
    print("READY", flush=True)
    sys.stdin.readline()  # the parent's go
    batch = [f"Worker {name}, prompt {i}: name a colour." for i in range(prompts)]
    started = time.time()
    responses = client.process_prompts_sync(batch, show_progress=False)
    finished = time.time()
    client.shutdown()
    report = {
        "name": name,
        "done": sum(not r.is_error for r in responses),
        "failed": sum(bool(r.is_error) for r in responses),
        "started": started,
        "finished": finished,
    }
    print("RESULT " + json.dumps(report), flush=True)


def launch_workers(
    address: str, rpm: int, prompts: int, on_ready: Callable[[], None] = lambda: None
) -> list[dict]:
    """Start both workers, release them together, and collect their reports.

    ``on_ready`` runs once both have warmed up, just before they are released.
    """
    command = [sys.executable, os.path.abspath(__file__), "--address", address]
    command += ["--rpm", str(rpm), "--prompts", str(prompts), "--worker"]
    workers = [
        subprocess.Popen([*command, name], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        for name in WORKERS
    ]
    try:
        for worker in workers:  # wait until both have warmed up
            line = worker.stdout.readline()
            if line.strip() != "READY":
                raise SystemExit(f"a worker failed to start (exit status {worker.wait()})")
        on_ready()
        for worker in workers:
            worker.stdin.write("go\n")
            worker.stdin.flush()
        reports = []
        for worker in workers:
            out, _ = worker.communicate()
            results = [line for line in out.splitlines() if line.startswith("RESULT ")]
            if worker.returncode != 0 or not results:
                raise SystemExit(f"a worker failed (exit status {worker.returncode})")
            reports.append(json.loads(results[-1].removeprefix("RESULT ")))
        return reports
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()


def print_report(reports: list[dict], rpm: int) -> None:
    for r in reports:
        seconds = r["finished"] - r["started"]
        print(
            f"worker {r['name']}: {r['done']} done, {r['failed']} failed in {seconds:.1f} s "
            f"= {r['done'] / seconds:.1f} requests/s"
        )
    span = max(r["finished"] for r in reports) - min(r["started"] for r in reports)
    total = sum(r["done"] + r["failed"] for r in reports)
    print(
        f"both workers: {total} requests in {span:.1f} s = {total / span:.1f} requests/s "
        f"(shared limit {rpm} rpm = {rpm / 60:.1f} requests/s)"
    )


def print_mock_view(mock: MockProvider, rpm: int) -> None:
    stats = mock.stats()
    counts = list(stats["per_second"].values())
    print("what the provider saw, requests per second:", " ".join(str(c) for c in counts))
    print(
        f"mock provider: {stats['requests']} requests, {stats['rate_limited']} refused "
        f"with 429; busiest second {max(counts, default=0)} (limit {rpm / 60:.1f}/s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpm", type=int, default=600, help="the one limit both share")
    parser.add_argument("--prompts", type=int, default=30, help="prompts per worker")
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--worker", metavar="NAME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        run_worker(args.worker, args.address, args.rpm, args.prompts)
        return

    import ray

    ray.init(include_dashboard=False, log_to_driver=False)
    address = ray.get_runtime_context().gcs_address
    print(f"Ray cluster at {address}; two workers share a limit of {args.rpm} rpm.")
    key_var = get_model(MODEL).api_key_env_var
    try:
        if os.environ.get(key_var):
            print(f"{key_var} is set: calling the real provider.")
            print_report(launch_workers(address, args.rpm, args.prompts), args.rpm)
            return
        config = MockConfig(limits=Limits(rpm=args.rpm), latency=Latency.fixed(30))
        with MockProvider(config) as mock, use_mock(mock):  # the workers inherit the env
            print(f"{key_var} is not set: the mock provider at {mock.url} enforces the limit.")
            # Count only the two workers' main batches, not their warm-up prompts.
            reports = launch_workers(address, args.rpm, args.prompts, on_ready=mock.reset_stats)
            print_report(reports, args.rpm)
            print_mock_view(mock, args.rpm)
    finally:
        ray.shutdown()


if __name__ == "__main__":
    main()
