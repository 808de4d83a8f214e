"""Issue 16 item 4: SIGKILL the ``deluge-ray run`` driver mid-way, run it again, lose nothing.

A real subprocess against the real mock provider (with latency, so prompts are in flight
at the kill), joined to the session's Ray. The kill comes once N rows are in the output
(polled, not timed) and a torn line is left at the end, as a kill mid-write leaves it.
The rerun must write every missing id exactly once, and the provider's requests over both
runs may exceed the number of prompts by at most the prompts in flight at the kill, which
the rerun reports ("K requests may have been paid twice").
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from deluge_ray._constants import API_KEY_ENV_VARS, BASE_URL_ENV_VARS
from deluge_ray._secrets import key_fingerprint
from deluge_ray.mock import Latency, MockConfig, MockProvider

from .conftest import MODEL, assert_valid_jsonl

CLI = str(Path(sys.executable).with_name("deluge-ray"))
TIMEOUT = 240


@pytest.fixture(scope="module")
def slow_mock():
    # 300 ms per answer at 40 requests/s: about a dozen prompts in flight at any moment.
    with MockProvider(MockConfig(latency=Latency.fixed(300))) as server:
        yield server


@pytest.fixture
def env(slow_mock, ray_cluster):
    key = f"sk-cli-kill-{uuid.uuid4().hex[:12]}"
    drop = {*BASE_URL_ENV_VARS.values(), *API_KEY_ENV_VARS.values(), "RAY_ADDRESS"}
    base = {k: v for k, v in os.environ.items() if k not in drop}
    yield {**base, **slow_mock.environment(), "OPENAI_API_KEY": key, "COLUMNS": "200"}
    try:
        limiter = f"limiter:openai:{key_fingerprint(key)}"
        ray_cluster.kill(ray_cluster.get_actor(limiter, namespace="deluge_ray"))
    except ValueError:
        pass


def _line_count(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_sigkill_then_rerun_writes_every_id_once_and_pays_at_most_the_in_flight_twice(
    tmp_path, env, slow_mock, ray_cluster
) -> None:
    count = 80
    prompts = [{"id": f"k{i:03d}", "prompt": f"kill test {i}"} for i in range(count)]
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts))
    out = tmp_path / "out.jsonl"
    address = ray_cluster.get_runtime_context().gcs_address
    command = [CLI, "run", "in.jsonl", "-m", MODEL, "-o", "out.jsonl", "--progress", "none"]
    command += ["--rpm", "2400", "--tpm", "5000000", "--callers", "1", "--address", address]
    slow_mock.reset_stats()

    first = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + TIMEOUT  # turns a hang into a failure; not a timing
        while _line_count(out) < 10 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert first.poll() is None, first.stderr.read().decode()
        first.kill()  # SIGKILL: no handler runs, nothing is flushed or cleaned up
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        first.stderr.close()
    with open(out, "ab") as fh:  # the kill landed in the middle of the next row
        fh.write(b'{"id": "k0')
    kept = _line_count(out)
    assert 10 <= kept < count

    second = subprocess.run(
        command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=TIMEOUT
    )

    assert second.returncode == 0, second.stderr
    rows = assert_valid_jsonl(out)  # every line whole, each id once
    assert sorted(r["id"] for r in rows) == [p["id"] for p in prompts]
    assert all(r["error"] is None for r in rows)
    report = re.search(
        r"resumed: (\d+) done, (\d+) to go; (\d+) requests may have been paid twice",
        second.stderr,
    )
    assert report, second.stderr
    done, to_go, paid_twice = map(int, report.groups())
    assert (done, to_go) == (kept, count - kept)
    assert "1 unusable line(s)" in second.stderr  # the torn line, moved aside
    assert not (tmp_path / "out.jsonl.inflight").exists()  # a finished run leaves none
    # The provider saw each prompt once, plus at most the ones in flight at the kill.
    extra = slow_mock.stats()["requests"] - count
    assert 0 <= extra <= paid_twice
    assert 0 < paid_twice <= 80  # the command's window: two seconds of --rpm 2400
