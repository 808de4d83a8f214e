"""Resume: a swarm whose driver is SIGKILLed at 50%, then the same call again.

Run:  python benchmarks/bench_agent_resume.py [--quick]

The orchestrator starts a local Ray and serves the mock provider in its own process (with
a script that logs every request as (loop, round): the loop's prompt and the tool results
it carries, so calls made twice are counted exactly). A driver process joins that Ray
and runs agent loops (full 1,000, quick 100) of 3 rounds each (two ``lookup``
tool rounds, then an answer; 200 ms per model call), ``max_concurrent_agents`` a fifth of
them, with ``checkpoint=`` a SQLite file. The orchestrator polls that file and SIGKILLs
the driver's process group once half the loops are recorded as finished; then a new
driver process makes the same call and runs to the end.

Figures, from the mock's request log and the checkpoint file:

* loops finished at the kill, and in flight (a request sent, not finished in the record);
* loops re-run: requests of the rerun for loops finished at the kill (target 0);
* model calls re-sent: requests of the rerun the killed run had already made (target:
  at most the loops in flight);
* the rerun's wall time, and whether every loop's answer is right;
* what durability costs: the same swarm uninterrupted in one more driver process, without
  and then with ``checkpoint=`` (a fresh file), on one client whose SubAgent a one-loop
  swarm started first (the ratio column compares the two).

lm-deluge 0.0.168 has no resume: its rerun of the same call sends everything again, so
its column is what the killed run had done – every loop finished and every call made –
counted at the same kill point (it is not run).
"""

from __future__ import annotations

import argparse
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common as C

ROUNDS = 3  # model calls per loop: two tool rounds, then the answer
LATENCY_MS = 200
KILL_AT = 0.5


# ---------------------------------------------------------------------------- the driver
def lookup(step: int) -> str:
    """Look something up."""
    return f"fact {step}"


def loop_prompts(n: int) -> list[str]:
    return [f"[resume-{i}] Look things up, then answer." for i in range(n)]


def deluge_ray_side(params: dict[str, Any]) -> dict[str, Any]:
    from deluge_ray.tool import Tool

    client = C.deluge_ray_client(
        params["base_url"],
        address=params["address"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=1_000,
    )
    start = time.perf_counter()
    results = client.process_agent_loops_sync(
        loop_prompts(params["loops"]),
        tools=[Tool.from_function(lookup)],
        max_rounds=ROUNDS,
        max_concurrent_agents=params["concurrency"],
        show_progress=False,
        checkpoint=params["checkpoint"],
    )
    wall = time.perf_counter() - start
    right = sum(
        1
        for _, response in results
        if response.completion == f"Final answer after {ROUNDS - 1} lookups."
    )
    client.shutdown()
    return {"wall_s": round(wall, 2), "loops": len(results), "right": right}


def overhead_side(params: dict[str, Any]) -> dict[str, Any]:
    """The same swarm uninterrupted, without and then with ``checkpoint=``, on one client
    (its SubAgent started by a one-loop warm-up swarm first)."""
    from deluge_ray.tool import Tool

    client = C.deluge_ray_client(
        params["base_url"],
        address=params["address"],
        max_requests_per_minute=C.NO_LIMIT_RPM,
        max_tokens_per_minute=C.NO_LIMIT_TPM,
        max_concurrent_requests=1_000,
    )
    tools = [Tool.from_function(lookup)]
    walls = {}
    for name, checkpoint in (("warmup", None), ("plain", None), ("durable", params["fresh"])):
        count = 1 if name == "warmup" else params["loops"]
        start = time.perf_counter()
        client.process_agent_loops_sync(
            [f"[resume-{i}] {name}" for i in range(count)],
            tools=tools,
            max_rounds=ROUNDS,
            max_concurrent_agents=params["concurrency"],
            show_progress=False,
            checkpoint=checkpoint,
        )
        walls[name] = round(time.perf_counter() - start, 2)
    client.shutdown()
    return {"plain_wall_s": walls["plain"], "durable_wall_s": walls["durable"]}


SIDES = {"deluge_ray": deluge_ray_side, "overhead": overhead_side}


# ---------------------------------------------------------------------------- orchestrator
class RequestLog:
    """The mock's script: answers like ``_mock_host.agent_rule`` and logs (phase, loop, round)."""

    def __init__(self) -> None:
        self.phase = "first"
        self.calls: list[tuple[str, int, int]] = []
        self._lock = threading.Lock()

    def __call__(self, view: Any) -> Any:
        from deluge_ray.mock import Reply

        loop = int(re.search(r"\[resume-(\d+)\]", view.messages[0].text).group(1))
        done = len(view.tool_results)
        with self._lock:
            self.calls.append((self.phase, loop, done))
        if done < ROUNDS - 1:
            return Reply.tool_call("lookup", {"step": done + 1})
        return f"Final answer after {done} lookups."

    def of(self, phase: str) -> list[tuple[int, int]]:
        with self._lock:
            return [(loop, r) for p, loop, r in self.calls if p == phase]


def finished_in_record(path: str) -> set[int]:
    """Loops the checkpoint file holds as finished."""
    from deluge_ray.agents._durable import SWARM_NAMESPACE, LoopRecord

    if not os.path.exists(path):
        return set()
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT key, value FROM cache WHERE key LIKE ?", (f"{SWARM_NAMESPACE}:%:loop:%",)
            ).fetchall()
    except sqlite3.Error:
        return set()  # being created
    done = set()
    for key, value in rows:
        record = LoopRecord.decode(value)
        if record is not None and record.finished:
            done.add(int(key.rsplit(":", 1)[1]))
    return done


def _killed_run(params: dict[str, Any], target: int, timeout: float) -> dict[str, Any]:
    worker = C.Worker(__file__, "deluge_ray", params, label="agent-resume-killed")
    started = time.perf_counter()
    done: set[int] = set()
    try:
        while len(done) < target:
            if worker.proc.poll() is not None:
                raise RuntimeError(f"the driver ended before the kill; log {worker.log_path}")
            if time.perf_counter() - started > timeout:
                raise RuntimeError(f"no kill point within {timeout} s; log {worker.log_path}")
            time.sleep(0.05)  # polling the file: the kill waits for records, not for time
            done = finished_in_record(params["checkpoint"])
        worker.kill()  # SIGKILL to the driver's process group
    finally:
        if worker.proc.poll() is None:
            worker.kill()
        try:
            worker.wait(timeout=60)
        except RuntimeError:
            pass  # killed, as meant: no result
    return {"kill_after_s": round(time.perf_counter() - started, 2)}


def run(quick: bool = False) -> dict[str, Any]:
    import ray

    from deluge_ray.mock import Latency, MockConfig, MockProvider

    loops = 100 if quick else 1_000
    concurrency = loops // 5
    log = RequestLog()
    folder = tempfile.mkdtemp(prefix="bench-resume-")
    checkpoint = os.path.join(folder, "swarm.sqlite")
    ray.init(
        namespace="deluge_ray",
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        with MockProvider(MockConfig(latency=Latency.fixed(LATENCY_MS))) as mock:
            mock.script("*", log)
            params = {
                "base_url": mock.openai_base_url,
                "address": ray.get_runtime_context().gcs_address,
                "loops": loops,
                "concurrency": concurrency,
                "checkpoint": checkpoint,
            }
            killed = _killed_run(params, int(loops * KILL_AT), timeout=600)
            done = finished_in_record(checkpoint)
            first = log.of("first")
            log.phase = "rerun"
            rerun = C.run_worker(__file__, "deluge_ray", params, label="agent-resume-rerun")
            again = log.of("rerun")
            log.phase = "overhead"
            fresh = {**params, "fresh": os.path.join(folder, "fresh.sqlite")}
            overhead = C.run_worker(__file__, "overhead", fresh, label="agent-resume-overhead")
    finally:
        ray.shutdown()
    first_set = set(first)
    in_flight = {loop for loop, _ in first} - done
    dr = {
        **killed,
        "finished_at_kill": len(done),
        "in_flight_at_kill": len(in_flight),
        "calls_before_kill": len(first),
        "loops_rerun": len({loop for loop, _ in again if loop in done}),
        "calls_resent": sum(1 for call in again if call in first_set),
        "rerun_calls": len(again),
        "rerun_wall_s": rerun["wall_s"],
        "rerun_loops_right": rerun["right"],
        "rerun_process_wall_s": rerun.get("process_wall_s"),
        "complete": first_set | set(again) == {(i, r) for i in range(loops) for r in range(ROUNDS)},
        "plain_wall_s": overhead["plain_wall_s"],
        "durable_wall_s": overhead["durable_wall_s"],
    }
    lm = {  # no resume: the same call again sends everything the killed run had sent
        "finished_at_kill": len(done),
        "in_flight_at_kill": len(in_flight),
        "loops_rerun": len(done),
        "calls_resent": len(first),
    }
    report = {
        "benchmark": "agent_resume",
        "quick": quick,
        "machine": C.machine_info(),
        "config": {
            "loops": loops,
            "rounds": ROUNDS,
            "latency_ms": LATENCY_MS,
            "max_concurrent_agents": concurrency,
            "kill_at_finished": int(loops * KILL_AT),
        },
        "sides": {"deluge_ray": dr, "lm_deluge": lm},
    }
    C.write_json("agent_resume", report)
    return report


def markdown(report: dict[str, Any]) -> str:
    dr, lm = report["sides"]["deluge_ray"], report["sides"]["lm_deluge"]
    cfg = report["config"]
    resent_ok = dr["calls_resent"] <= dr["in_flight_at_kill"]
    rows = [
        ["loops finished at the kill", dr["finished_at_kill"], lm["finished_at_kill"], ""],
        ["loops in flight at the kill", dr["in_flight_at_kill"], lm["in_flight_at_kill"], ""],
        [
            "loops re-run (target 0)",
            dr["loops_rerun"],
            lm["loops_rerun"],
            C.ratio(dr["loops_rerun"], lm["loops_rerun"]),
        ],
        [
            "model calls re-sent (target <= loops in flight)",
            dr["calls_resent"],
            lm["calls_resent"],
            C.ratio(dr["calls_resent"], lm["calls_resent"]),
        ],
        ["model calls made before the kill", dr["calls_before_kill"], lm["calls_resent"], ""],
        ["model calls made by the rerun", dr["rerun_calls"], "n/a (not run)", ""],
        ["rerun wall time (s)", dr["rerun_wall_s"], "n/a (not run)", ""],
        [f"rerun loops answered right (of {cfg['loops']})", dr["rerun_loops_right"], "", ""],
        [
            "uninterrupted swarm, with / without checkpoint= (s)",
            f"{dr['durable_wall_s']} / {dr['plain_wall_s']}",
            "n/a",
            C.ratio(dr["durable_wall_s"], dr["plain_wall_s"]),
        ],
    ]
    targets = [
        ["0 loops re-run", "yes" if dr["loops_rerun"] == 0 else "no"],
        ["re-sent calls <= loops in flight at the kill", "yes" if resent_ok else "no"],
        [
            "every loop's every call made, by one run or the other",
            "yes" if dr["complete"] else "no",
        ],
    ]
    lines = [
        "## Resume: a swarm's driver killed at 50%",
        "",
        f"{cfg['loops']:,} agent loops of {cfg['rounds']} model calls (two tool rounds, then an "
        f"answer), {cfg['latency_ms']} ms per call, {cfg['max_concurrent_agents']} loops at "
        "once, `checkpoint=` a SQLite file. The driver process is SIGKILLed once "
        f"{cfg['kill_at_finished']:,} loops are recorded as finished; a new driver then makes "
        "the same call. Counts are from the mock's request log. lm-deluge 0.0.168 has no "
        "resume: its column is what its rerun would send again (everything the killed run "
        "had done), at the same kill point; it is not run.",
        "",
        C.md_table(["", "deluge_ray", "lm-deluge", "ratio"], rows),
        "",
        C.md_table(["target", "met"], targets),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="100 loops instead of 1,000")
    args = parser.parse_args()
    print(markdown(run(args.quick)))


if __name__ == "__main__":
    if C.worker_entry(SIDES):
        C.finish_worker()
    main()
