"""Nothing of Ray's internals on the user's terminal by default; DELUGE_RAY_DEBUG=1 shows
them (issue 15, item 6).

A script, run as a user runs it, sends a batch through two ProviderCallers and kills one
of them mid-way with ``ray.kill``; deluge_ray resends the victim's prompts. Its captured
stderr must hold no Ray internals. The script joins the session's Ray (through
``RAY_ADDRESS``, as a user on a cluster would) rather than start a second one here.
"""

from __future__ import annotations

import subprocess
import sys

from tests.support.examples import example_env

SCRIPT = """
import asyncio

import ray

from deluge_ray import LLMClient
from deluge_ray.mock import Latency, MockConfig, MockProvider, use_mock


async def main():
    with MockProvider(MockConfig(latency=Latency.fixed(300))) as server, use_mock(server):
        client = LLMClient(
            "gpt-4.1-mini",
            num_callers=2,
            max_requests_per_minute=100_000,
            max_tokens_per_minute=100_000_000,
            progress="manual",
        )
        prompts = [f"q{i}" for i in range(40)]
        job = asyncio.create_task(client.process_prompts_async(prompts, show_progress=False))
        while server.stats()["in_flight"] < 6:
            await asyncio.sleep(0.02)
        ray.kill(client._engine.pool.live_callers()[0])
        results = await job
        print("answered", sum(not r.is_error for r in results), "of", len(results))


asyncio.run(main())
"""

# What Ray itself writes to a driver's terminal: its error feed, its log lines, the core
# worker's messages, and tracebacks of errors it considers unhandled.
RAY_INTERNALS = (
    "(raylet)",
    "will be retried",
    "Traceback",
    "Unhandled error",
    "RayActorError",
    "worker.py:",
    "core_worker",
    "Connecting to existing Ray cluster",
)


def run_script(tmp_path, ray_cluster, **extra: str) -> subprocess.CompletedProcess:
    (tmp_path / "kill_a_caller.py").write_text(SCRIPT)
    env = example_env(ray_cluster.get_runtime_context().gcs_address, **extra)
    env.pop("DELUGE_RAY_DEBUG", None)
    env.update(extra)
    return subprocess.run(
        [sys.executable, "kill_a_caller.py"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_killed_caller_leaves_nothing_of_ray_on_stderr(tmp_path, ray_cluster) -> None:
    result = run_script(tmp_path, ray_cluster)
    assert result.returncode == 0, result.stderr
    assert "answered 40 of 40" in result.stdout
    shown = [marker for marker in RAY_INTERNALS if marker in result.stderr]
    assert not shown, result.stderr
    assert result.stderr.strip() == ""


def test_the_debug_setting_shows_rays_own_output(tmp_path, ray_cluster) -> None:
    result = run_script(tmp_path, ray_cluster, DELUGE_RAY_DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "answered 40 of 40" in result.stdout
    assert "Connecting to existing Ray cluster" in result.stderr
