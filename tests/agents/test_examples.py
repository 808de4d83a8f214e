"""Smoke tests: the two agent examples run to completion against the mock provider."""

from __future__ import annotations

import pytest

from tests.support.examples import example_env, run_example


def _run(ray_cluster, script: str, *args: str) -> str:
    # Always the mock here; join the session's cluster instead of starting a second one.
    env = example_env(
        ray_cluster.get_runtime_context().gcs_address, DELUGE_RAY_TOKENIZER="estimate"
    )
    return run_example(script, *args, env=env).stdout


@pytest.mark.timeout(300)
def test_agent_swarm_example(ray_cluster):
    out = _run(ray_cluster, "agent_swarm.py", "12")
    assert "loop 2: 2 squared twice is 16" in out
    assert "12 loops finished, 0 failed" in out
    assert "The sub-agents said: 2 squared twice is 16 | 3 squared twice is 81" in out


@pytest.mark.timeout(300)
def test_mcp_agent_example(ray_cluster):
    out = _run(ray_cluster, "mcp_agent.py")
    assert "MCP tools: celsius_to_fahrenheit, city_temperature" in out
    assert "It is 70.7 °F in Lisbon today." in out
    assert "stopped because: no_tool_calls after 3 rounds" in out
