"""Durable swarms (issue 19 item 4): ``checkpoint=`` records loops; the same call resumes.

The kill test runs the swarm in a driver subprocess joined to the session's Ray, SIGKILLs
it once the checkpoint file shows loops finished (polled, not timed), and reruns the same
call here: the mock's request log says which calls the rerun made, so finished loops
re-run and calls re-sent are counted exactly.
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from deluge_ray.actors.cache_actor import get_cache_actor
from deluge_ray.agents._durable import SWARM_NAMESPACE, LoopRecord
from deluge_ray.agents._swarm import process_agent_loops_async
from deluge_ray.cache import DistributedDictCache
from deluge_ray.errors import ConfigurationError
from deluge_ray.mock import Latency, MockConfig, MockProvider, Reply, RequestView, use_mock
from deluge_ray.tool import Tool
from tests.support.clients import client_builder

DRIVER = Path(__file__).with_name("durable_driver.py")
TIMEOUT = 240  # turns a hang into a failure; never a timing


def square(x: int) -> int:
    """Square a number."""
    return x * x


class Script:
    """Round 1 squares n, round 2 squares the result, round 3 answers; logs every call
    as (phase, loop, round)."""

    def __init__(self) -> None:
        self.phase = "first"
        self.calls: list[tuple[str, int, int]] = []
        self._lock = threading.Lock()

    def __call__(self, view: RequestView) -> Reply | str:
        n = int(re.search(r"loop (\d+)", view.messages[0].text).group(1))
        results = view.tool_results
        with self._lock:
            self.calls.append((self.phase, n, len(results)))
        if len(results) == 0:
            return Reply.tool_call("square", {"x": n})
        if len(results) == 1:
            return Reply.tool_call("square", {"x": int(results[0]["content"])})
        return f"loop {n}: {results[1]['content']}"

    def of(self, phase: str) -> list[tuple[int, int]]:
        with self._lock:
            return [(n, r) for p, n, r in self.calls if p == phase]


@pytest.fixture(scope="module")
def mock_server():
    # 50 ms per answer: loops have calls in flight whenever the driver dies.
    with MockProvider(MockConfig(latency=Latency.fixed(50))) as server:
        yield server


@pytest.fixture(scope="module")
def client(ray_cluster, mock_server):
    """One client for the module: its SubAgent actor starts once."""
    with use_mock(mock_server):
        builder = client_builder()
        yield next(builder)()
        next(builder, None)  # shuts it down


def _check(results, count: int) -> None:
    assert len(results) == count
    for i, (conv, resp) in enumerate(results):
        assert resp.completion == f"loop {i}: {i**4}", resp.error_message
        assert [m.role for m in conv.messages] == ["user"] + ["assistant", "tool"] * 2 + [
            "assistant"
        ]


async def _swarm(client, count: int, checkpoint, **kwargs):
    return await process_agent_loops_async(
        client,
        [f"loop {i}" for i in range(count)],
        tools=[Tool.from_function(square)],
        max_rounds=kwargs.pop("max_rounds", 3),
        max_concurrent_agents=4,
        num_actors=1,
        show_progress=False,
        checkpoint=checkpoint,
        **kwargs,
    )


@pytest.mark.parametrize(
    ("bad", "says"),
    [(42, "got int"), ("{tmp}", "is a directory"), ({"a": 1}, "got dict")],
)
async def test_a_bad_checkpoint_is_an_error_before_any_request(mock, client, tmp_path, bad, says):
    bad = str(tmp_path) if bad == "{tmp}" else bad
    with pytest.raises(ConfigurationError, match=says):
        await _swarm(client, 2, bad)
    assert mock.stats()["requests"] == 0


async def test_the_same_call_is_answered_from_the_record_and_another_call_is_not(
    mock, client, tmp_path
):
    mock.script("*", Script())
    path = tmp_path / "swarm.sqlite"
    _check(await _swarm(client, 4, path), 4)
    assert mock.stats()["requests"] == 12

    again = await _swarm(client, 4, str(path))  # the same call: nothing runs
    _check(again, 4)
    assert mock.stats()["requests"] == 12
    assert all(resp.local_cache_hit for _, resp in again)

    # Another call (one round more allowed) finds no records of its own and runs in full.
    _check(await _swarm(client, 4, path, max_rounds=4), 4)
    assert mock.stats()["requests"] == 24

    # A CacheActor holds the record as well (under the DistributedDictCache's namespace).
    actor = get_cache_actor(f"durable-{uuid.uuid4().hex[:8]}", path=str(tmp_path / "a.sqlite"))
    try:
        _check(await _swarm(client, 3, DistributedDictCache(actor, cache_key="t")), 3)
        assert mock.stats()["requests"] == 33
        _check(await _swarm(client, 3, DistributedDictCache(actor, cache_key="t")), 3)
        assert mock.stats()["requests"] == 33
    finally:
        import ray

        ray.kill(actor)


def _records(path: Path) -> dict[int, LoopRecord]:
    if not path.exists():
        return {}
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            rows = db.execute(
                "SELECT key, value FROM cache WHERE key LIKE ?", (f"{SWARM_NAMESPACE}:%:loop:%",)
            ).fetchall()
    except sqlite3.Error:
        return {}  # the driver is creating the file
    return {int(k.rsplit(":", 1)[1]): LoopRecord.decode(v) for k, v in rows}


def test_sigkilled_driver_then_the_same_call_resumes_without_paying_twice(
    mock, client, ray_cluster, tmp_path
):
    count = 20  # five waves of 4: the kill comes while later waves run
    script = Script()
    mock.script("*", script)
    path = tmp_path / "swarm.sqlite"
    env = {k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"}
    address = ray_cluster.get_runtime_context().gcs_address
    driver = subprocess.Popen(
        [sys.executable, str(DRIVER), address, str(path), str(count)],
        env=env,  # the mock fixture points it at the mock
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        finished = 0
        while finished < 3 and driver.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # polling the file; the kill waits for records, not for time
            finished = sum(1 for r in _records(path).values() if r and r.finished)
        assert driver.poll() is None, driver.stderr.read().decode()
        driver.kill()  # SIGKILL: nothing is flushed or closed
        driver.wait()
    finally:
        if driver.poll() is None:
            driver.kill()
            driver.wait()
        driver.stderr.close()

    recorded = _records(path)
    done = {i for i, r in recorded.items() if r.finished}
    first = script.of("first")
    assert 3 <= len(done) < count
    # In flight at the kill: loops the first run had sent a call for and not finished.
    in_flight = {n for n, _ in first} - done
    assert in_flight

    script.phase = "rerun"
    _check(_rerun(client, count, path), count)
    rerun = script.of("rerun")
    assert not [n for n, _ in rerun if n in done]  # finished loops never ran again
    resent = [call for call in rerun if call in set(first)]
    assert len(resent) <= len(in_flight), (resent, in_flight)
    # Every call the swarm needs was made, by one run or the other.
    assert {(n, r) for n in range(count) for r in range(3)} == set(first) | set(rerun)


def _rerun(client, count: int, path: Path):
    return client.process_agent_loops_sync(
        [f"loop {i}" for i in range(count)],
        tools=[Tool.from_function(square)],
        max_rounds=3,
        max_concurrent_agents=4,
        num_actors=1,
        show_progress=False,
        checkpoint=path,
    )
