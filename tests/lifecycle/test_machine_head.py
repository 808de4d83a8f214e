"""The machine-wide local Ray head, used the way a user's processes use it (issue 15,
items 1 and 7): with no cluster configured, two driver scripts started at the same instant
start one head and share one limiter through it; ``deluge-ray up`` sets its idle timeout,
it stops itself when idle, and ``deluge-ray down`` stops it.

Every process here runs with a state directory and a Ray temp dir of this module's own
(``DELUGE_RAY_STATE_DIR``, ``RAY_TMPDIR``) and the head picks a free GCS port, so nothing
here can join, or be joined by, a head or a Ray that anyone else started on this machine.
One head serves the whole module (starting one costs seconds): it ends by stopping itself
when idle, and is stopped at the end even when a test fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import uuid
from contextlib import contextmanager
from pathlib import Path
from unittest import mock as env_patch

import pytest

from deluge_ray.client._head_state import (
    HeadRecord,
    pid_alive,
    process_start_ticks,
    read_record,
    wait_for_exit,
    write_record,
)
from deluge_ray.client._local_head import stop_local_head
from deluge_ray.mock import Latency, Limits, MockConfig, MockProvider
from tests.support.examples import example_env

CLI = [sys.executable, "-m", "deluge_ray.cli._main"]
TIMEOUT = 240
RPM = 3_000  # 50 a second: the mock refuses the 51st request of any second


@contextmanager
def _environment(env: dict[str, str]):
    with env_patch.patch.dict(os.environ, env, clear=True):
        yield


@pytest.fixture(scope="module")
def isolated(tmp_path_factory):
    """The environment of a user's process on a machine of its own, with no cluster."""
    state = tmp_path_factory.mktemp("machine-head")
    # A short path: Ray's unix sockets live under it and their paths are length-limited.
    ray_tmp = tempfile.mkdtemp(prefix="drh-", dir="/tmp")
    env = example_env()
    env.pop("RAY_ADDRESS", None)
    env.update(
        DELUGE_RAY_LOCAL="machine",
        DELUGE_RAY_STATE_DIR=str(state / "state"),
        DELUGE_RAY_CACHE_DIR=str(state / "cache"),
        # A head left behind by a crashed run stops by itself soon after.
        DELUGE_RAY_HEAD_IDLE_TIMEOUT="120",
        RAY_TMPDIR=ray_tmp,
    )
    try:
        yield env
    finally:
        with _environment(env):
            stop_local_head(timeout=30)
        shutil.rmtree(ray_tmp, ignore_errors=True)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=TIMEOUT)


def _address_in(output: str) -> str:
    line = next(line for line in output.splitlines() if "address" in line)
    return line.split("│")[2].strip()


STALE = HeadRecord(
    address="127.0.0.1:1",
    head_pid=2**22 + 1,  # above the default pid_max: no such process
    head_start_ticks=None,
    started_at=0.0,
    idle_timeout_s=600.0,
    ray_temp_dir="/nonexistent",
    python=sys.executable,
)


DRIVER = textwrap.dedent(
    """
    import json, os, sys, time

    from deluge_ray import LLMClient
    from deluge_ray.client._local_head import describe_local_head

    client = LLMClient("gpt-4.1-mini", max_requests_per_minute=int(sys.argv[2]),
                       max_tokens_per_minute=50_000_000, progress="manual")
    # The first call finds no head: both drivers race to start one, then join it.
    client.process_prompts_sync(["warm up"], show_progress=False)
    barrier = sys.argv[1]
    open(os.path.join(barrier, str(os.getpid())), "w").close()
    while len(os.listdir(barrier)) < 2:  # both drivers start sending together
        time.sleep(0.01)
    out = client.process_prompts_sync([f"{os.getpid()} {i}" for i in range(int(sys.argv[3]))],
                                      show_progress=False)
    import ray
    print(json.dumps({
        "ok": sum(not r.is_error for r in out),
        "limiter": client._routes[0].limiter._actor_id.hex(),
        "gcs": ray.get_runtime_context().gcs_address,
        "drivers": describe_local_head()["drivers"],
    }))
    """
)
PER_DRIVER = 100
RAYS_AGENT_PORT = 52365  # the port ray.init gives every node's dashboard agent


@contextmanager
def _another_ray_holds(port: int):
    """The port held, as another Ray on the machine would hold it (already held is as good)."""
    holder = socket.socket()
    try:
        try:
            holder.bind(("0.0.0.0", port))
            holder.listen()
        except OSError:
            pass  # someone already holds it: the head meets a taken port either way
        yield
    finally:
        holder.close()


@pytest.fixture(scope="module")
def two_drivers(isolated, tmp_path_factory):
    """Two driver scripts started at the same instant on a machine with no Ray running
    (only the record of a head that died with the machine), each sending ``PER_DRIVER``
    prompts on one key to a mock enforcing ``RPM`` in per-second windows. Returns each
    driver's report, its stderr, and the mock's counters."""
    write_record(isolated["DELUGE_RAY_STATE_DIR"], STALE)
    config = MockConfig(limits=Limits(rpm=RPM), latency=Latency.fixed(20))
    with MockProvider(config) as mock:
        env = {**isolated, **mock.environment(), "OPENAI_API_KEY": f"sk-{uuid.uuid4().hex}"}
        barrier = tmp_path_factory.mktemp("barrier")
        with _another_ray_holds(RAYS_AGENT_PORT):
            drivers = [
                subprocess.Popen(
                    [sys.executable, "-c", DRIVER, str(barrier), str(RPM), str(PER_DRIVER)],
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _ in range(2)
            ]
            outputs = [driver.communicate(timeout=TIMEOUT) for driver in drivers]
        stats = mock.stats()
    for driver, (_out, err) in zip(drivers, outputs, strict=True):
        assert driver.returncode == 0, err[-3000:]
    reports = [json.loads(out.strip().splitlines()[-1]) for out, _ in outputs]
    return reports, [err for _, err in outputs], stats


def test_two_drivers_racing_to_start_start_one_head(isolated, two_drivers):
    reports, _, _ = two_drivers
    record = read_record(isolated["DELUGE_RAY_STATE_DIR"])
    assert record is not None and record.head_pid != STALE.head_pid  # the dead one replaced
    assert {r["gcs"] for r in reports} == {record.address}  # both joined the one head
    assert pid_alive(record.head_pid) and pid_alive(record.watcher_pid)  # it outlived them
    # One `ray start` ever ran: one Ray session in the head's temp dir.
    sessions = [p for p in Path(record.ray_temp_dir).glob("session_2*") if p.is_dir()]
    assert len(sessions) == 1, sessions
    assert record.ray_temp_dir.startswith(isolated["RAY_TMPDIR"])  # isolated from /tmp/ray
    assert record.idle_timeout_s == 120.0
    assert all(r["drivers"] >= 1 for r in reports)  # each saw itself connected


def test_the_heads_dashboard_agent_takes_a_free_port_beside_another_ray(isolated, two_drivers):
    """Ray's fixed agent port was held while the head started: its agent took another at
    once (Ray's own start retries the taken port for 3 s, then goes on without it)."""
    record = read_record(isolated["DELUGE_RAY_STATE_DIR"])
    assert record is not None
    (log,) = Path(record.ray_temp_dir).glob("session_2*/logs/dashboard_agent.log")
    text = log.read_text()
    assert "Failed to bind" not in text
    served = re.search(r"Dashboard agent http address: \S+:(\d+)", text)
    assert served is not None and int(served.group(1)) != RAYS_AGENT_PORT


def test_two_driver_scripts_with_no_cluster_share_one_limiter(two_drivers):
    reports, stderrs, stats = two_drivers
    assert [r["ok"] for r in reports] == [PER_DRIVER, PER_DRIVER]
    assert reports[0]["limiter"] == reports[1]["limiter"]  # one limiter for the key
    # One limit for both: the provider refused (almost) nothing. Two limiters, each pacing
    # at the whole limit, had 9% refused (the measurement).
    assert stats["requests"] >= 2 * (PER_DRIVER + 1)
    assert stats["rate_limited"] <= 0.01 * stats["requests"], stats
    for err in stderrs:  # starting and joining the head is quiet
        for internal in ("Traceback", "(raylet)", "Connecting to existing Ray", "ray start"):
            assert internal not in err, err[-3000:]


def test_status_finds_the_local_head_and_the_limiter_the_drivers_shared(isolated, two_drivers):
    status = _cli(isolated, "status")
    assert status.returncode == 0, status.stderr
    text = " ".join(status.stdout.split())  # rich wraps long lines
    assert "this machine's local head at" in text and "deluge-ray down" in text, text
    # The drivers have exited; neither the head's own process nor `status` counts as one.
    assert "0 driver(s) connected" in text, text
    # The one limiter both drivers used (named again above its clients table).
    assert len(set(re.findall(r"limiter:openai:[0-9a-f]+", text))) == 1, text


def test_up_sets_a_running_heads_idle_timeout_and_the_idle_head_stops_itself(isolated, two_drivers):
    state = isolated["DELUGE_RAY_STATE_DIR"]
    record = read_record(state)
    up = _cli(isolated, "up", "--idle-timeout", "1")
    assert up.returncode == 0, up.stderr
    assert up.stdout.startswith("deluge-ray up: already running"), up.stdout
    assert _address_in(up.stdout) == record.address and "1 s" in up.stdout
    # The drivers have exited: the watcher (looking 4 times a second) stops the head.
    assert wait_for_exit(record.head_pid, record.head_start_ticks, timeout=TIMEOUT)
    assert wait_for_exit(record.watcher_pid, None, timeout=30)
    assert read_record(state) is None
    assert "stopping the head (idle" in (Path(state) / "watcher.log").read_text()
    assert not _ray_processes_under(record.ray_temp_dir)


def _ray_processes_under(temp_dir: str) -> list[int]:
    """Processes whose command line names ``temp_dir`` (gcs_server, raylet, workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and pid_alive(int(entry.name)):
            try:
                if temp_dir.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_down_stops_the_head_and_its_watcher(isolated, two_drivers):
    """``deluge-ray down`` on a recorded head. The head stopping for real (Ray's processes
    gone) is checked above; here stand-in processes take the head's and the watcher's
    place, since a second real head would cost this module a second `ray start`."""
    state = isolated["DELUGE_RAY_STATE_DIR"]
    assert read_record(state) is None  # the idle head above is gone
    sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
    head, watcher = subprocess.Popen(sleeper), subprocess.Popen(sleeper)
    try:
        write_record(
            state,
            HeadRecord(
                address="127.0.0.1:9",
                head_pid=head.pid,
                head_start_ticks=process_start_ticks(head.pid),
                started_at=0.0,
                idle_timeout_s=None,
                ray_temp_dir="/nonexistent",
                python=sys.executable,
                watcher_pid=watcher.pid,
            ),
        )
        done = _cli(isolated, "down")
        assert done.returncode == 0, done.stderr
        assert "stopped the local Ray head at 127.0.0.1:9" in done.stdout
        assert head.wait(30) == -signal.SIGTERM and watcher.wait(30) == -signal.SIGTERM
        assert read_record(state) is None
        with _environment(isolated):
            assert stop_local_head() is None  # `down` again: nothing to stop
    finally:
        for proc in (head, watcher):
            proc.kill()
            proc.wait()
