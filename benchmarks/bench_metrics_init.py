"""What Ray's default extras (the ``metrics`` extra) cost an embedded ``ray.init``.

Each round starts a fresh local Ray in a subprocess, exactly as the test suite's session
fixture does (``include_dashboard=False``), once with a Python *without* ``ray[default]``
and once with this one, interleaved so both see the same machine load. Per run: the
seconds ``ray.init`` took, the processes of the node (descendants of the driver, counted
4 s after start), their resident memory and the CPU seconds they used by then.

    python benchmarks/bench_metrics_init.py --without /path/to/python-without-extras --rounds 5

``--without`` must be a Python that imports ``ray`` but not ``prometheus_client`` (for
example a virtualenv made before ``pip install 'deluge-ray[metrics]'``). Not part of
``run_all.py``: it measures Ray's start-up, not deluge_ray against lm-deluge.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

_MEASURE = r"""
import json, os, time
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
import ray

def tree(root):
    parent = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    text = f.read()
                parent[int(pid)] = int(text[text.rindex(")") + 2 :].split()[1])
            except OSError:
                pass
    found = []
    for pid in parent:
        up = pid
        while up in parent and up > 1:
            up = parent[up]
            if up == root:
                found.append(pid)
                break
    return found

def usage(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
        fields = text[text.rindex(")") + 2 :].split()
        with open(f"/proc/{pid}/statm") as f:
            rss = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), rss
    except OSError:
        return 0.0, 0

start = time.perf_counter()
ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
init_s = time.perf_counter() - start
time.sleep(4)
pids = tree(os.getpid())
cpu = sum(usage(p)[0] for p in pids)
rss = sum(usage(p)[1] for p in pids)
import importlib.util
extras = importlib.util.find_spec("prometheus_client") is not None
ray.shutdown()
print(json.dumps({"init_s": init_s, "procs": len(pids), "rss_mb": rss / 1e6,
                  "node_cpu_s": cpu, "extras": extras}))
"""


def measure(python: str) -> dict:
    done = subprocess.run(
        [python, "-c", _MEASURE], capture_output=True, text=True, timeout=600, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--without", required=True, help="a Python without ray[default]")
    parser.add_argument("--with", dest="with_", default=sys.executable, help="one with it")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    runs: dict[str, list[dict]] = {"without": [], "with": []}
    for _ in range(args.rounds):
        runs["without"].append(measure(args.without))
        runs["with"].append(measure(args.with_))
    assert not any(r["extras"] for r in runs["without"]), "--without has the extras"
    assert all(r["extras"] for r in runs["with"]), "--with lacks the extras"
    print(f"{'':8} {'init s':>8} {'procs':>6} {'RSS MB':>8} {'node CPU s':>11}  (medians)")
    for label, rows in runs.items():
        med = {k: statistics.median(r[k] for r in rows) for k in rows[0] if k != "extras"}
        print(
            f"{label:8} {med['init_s']:8.2f} {med['procs']:6.0f} {med['rss_mb']:8.0f} "
            f"{med['node_cpu_s']:11.2f}"
        )
    print(json.dumps(runs))


if __name__ == "__main__":
    main()
