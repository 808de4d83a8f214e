"""Fixtures for the example smoke tests: run each example the way a user would.

Every example is run as its own process (``python examples/X.py``). Instead of starting
a Ray per example, they join the session's cluster through ``RAY_ADDRESS``, which every
example honours (a plain ``ray.init()`` does too). Provider keys and base URLs are removed
from their environment, so each example takes its default path: a mock provider of its
own. What they print is what the tests check.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deluge_ray._constants import API_KEY_ENV_VARS, BASE_URL_ENV_VARS
from deluge_ray._secrets import key_fingerprint

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 240

_PROVIDER_VARS = {*BASE_URL_ENV_VARS.values(), *API_KEY_ENV_VARS.values()}


@pytest.fixture(scope="session")
def ray_address(ray_cluster) -> str:
    return ray_cluster.get_runtime_context().gcs_address


@pytest.fixture
def example_env(ray_address) -> dict[str, str]:
    """A user's environment with no provider key set, joined to the session's Ray."""
    env = {k: v for k, v in os.environ.items() if k not in _PROVIDER_VARS}
    env["RAY_ADDRESS"] = ray_address
    return env


def run_example(
    script: str, *args: str, env: dict[str, str], cwd: Path = EXAMPLES
) -> subprocess.CompletedProcess:
    """Run ``examples/<script>`` to completion; it must exit 0 without a traceback."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result


def kill_limiter(ray, provider: str, key: str) -> None:
    """End the (detached) RateLimiter a test created for a key only it used."""
    try:
        ray.kill(
            ray.get_actor(f"limiter:{provider}:{key_fingerprint(key)}", namespace="deluge_ray")
        )
    except ValueError:
        pass  # never created
