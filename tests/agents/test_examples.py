"""Smoke tests: the two agent examples run to completion against the mock provider."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[2] / "examples"


def _run(ray_cluster, *args: str) -> str:
    env = dict(os.environ)
    for var in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY"):
        env.pop(var, None)  # always the mock here
    # Join the session's cluster instead of starting a second one on this small machine.
    env["RAY_ADDRESS"] = ray_cluster.get_runtime_context().gcs_address
    env["DELUGE_RAY_TOKENIZER"] = "estimate"
    done = subprocess.run(
        [sys.executable, *args], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    return done.stdout


@pytest.mark.timeout(300)
def test_agent_swarm_example(ray_cluster):
    out = _run(ray_cluster, str(EXAMPLES / "agent_swarm.py"), "12")
    assert "loop 2: 2 squared twice is 16" in out
    assert "12 loops finished, 0 failed" in out
    assert "The sub-agents said: 2 squared twice is 16 | 3 squared twice is 81" in out


@pytest.mark.timeout(300)
def test_mcp_agent_example(ray_cluster):
    out = _run(ray_cluster, str(EXAMPLES / "mcp_agent.py"))
    assert "MCP tools: celsius_to_fahrenheit, city_temperature" in out
    assert "It is 70.7 °F in Lisbon today." in out
    assert "stopped because: no_tool_calls after 3 rounds" in out
