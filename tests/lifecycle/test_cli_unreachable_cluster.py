"""``deluge-ray run --address`` naming a cluster that is not there: one line, exit status 2,
no row written and no Ray started (issue 15, item 4; it used to sit 200 s retrying the
connection once per prompt)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.lifecycle.test_cluster_probe import closed_port
from tests.support.examples import example_env

CLI = str(Path(sys.executable).with_name("deluge-ray"))


def test_an_unreachable_address_fails_at_once_with_one_line(tmp_path) -> None:
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(f"q{i}") + "\n" for i in range(50)))
    address = f"127.0.0.1:{closed_port()}"
    env = example_env(OPENAI_API_KEY="sk-test-unreachable", DELUGE_RAY_CONNECT_TIMEOUT="2")
    env.pop("RAY_ADDRESS", None)
    options = ["--address", address, "--progress", "none"]
    result = subprocess.run(
        [CLI, "run", "in.jsonl", "-m", "gpt-4.1-mini", "-o", "out.jsonl", *options],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        f"deluge-ray: error: Could not reach the Ray cluster at {address!r} within 2 s "
        "(Connection refused). Check the address and that the cluster is running "
        "(`ray status` on its head node), or give no address (and unset RAY_ADDRESS) to "
        "start a local Ray."
    ]
    assert not (tmp_path / "out.jsonl").exists() or not (tmp_path / "out.jsonl").read_text()
