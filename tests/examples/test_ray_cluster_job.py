"""examples/ray_cluster_job.sh: the command it submits, and that command run here."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

from deluge_ray.mock import MockProvider
from tests.support.examples import EXAMPLES, TIMEOUT

from .conftest import kill_limiter

SCRIPT = EXAMPLES / "ray_cluster_job.sh"
DATA = EXAMPLES / "data" / "prompts.jsonl"


def expected_replies() -> dict[str, str]:
    """id -> the mock's echo of the record's last user turn, read straight from the file."""
    replies = {}
    for number, line in enumerate(DATA.read_text().splitlines(), start=1):
        record = json.loads(line)
        if isinstance(record, str):
            replies[str(number)] = f"Mock reply to: {record}"
            continue
        if "prompt" in record:
            last = record["prompt"]
        else:
            content = [m for m in record["messages"] if m["role"] == "user"][-1]["content"]
            last = content if isinstance(content, str) else content[0]["text"]
        replies[record["id"]] = f"Mock reply to: {last}"
    return replies


def test_the_job_command_runs_locally_and_writes_every_row(tmp_path, example_env, ray_cluster):
    key = f"sk-job-{uuid.uuid4().hex[:8]}"
    output = tmp_path / "results.jsonl"
    with MockProvider() as provider:
        env = {**example_env, **provider.environment(), "OPENAI_API_KEY": key}
        env["OUTPUT"] = str(output)
        try:
            result = subprocess.run(
                ["bash", str(SCRIPT), "--local"],
                env=env,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
            )
        finally:
            kill_limiter(ray_cluster, "openai", key)
        sent = provider.stats()["requests"]

    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    rows = [json.loads(line) for line in output.read_text().splitlines()]
    assert {r["id"]: r["completion"] for r in rows} == expected_replies()
    assert all(r["error"] is None and r["model"] == "gpt-4.1-mini" for r in rows)
    assert sent == len(rows) == 10
    assert f"results: {output}" in result.stdout


def test_the_submitted_job_is_that_command_and_carries_no_key(tmp_path, example_env) -> None:
    # No Ray job server runs here: a stand-in `ray` on PATH records what it was asked to run.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    recorded = tmp_path / "argv.txt"
    stub = bin_dir / "ray"
    stub.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{recorded}"\n')
    stub.chmod(0o755)
    env = {**example_env, "PATH": f"{bin_dir}{os.pathsep}{example_env['PATH']}"}
    env["OPENAI_API_KEY"] = "sk-must-not-travel-with-the-job"

    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )

    assert result.returncode == 0, result.stderr
    argv = recorded.read_text().splitlines()
    assert argv == [
        "job", "submit", "--working-dir", str(EXAMPLES), "--",
        "deluge-ray", "run", "data/prompts.jsonl", "-m", "gpt-4.1-mini", "-o", "results.jsonl",
        "--rpm", "1000", "--progress", "manual",
    ]  # fmt: skip
    assert "sk-must-not-travel-with-the-job" not in recorded.read_text()
    assert (EXAMPLES / argv[7]).is_file()  # the input path resolves inside --working-dir
