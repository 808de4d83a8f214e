"""The one way tests run an example script: as its own process, the way a user would.

Provider keys and base URLs are removed from the example's environment, so each example
takes its default path (a mock provider of its own) unless a test sets them. Passing the
session cluster's address makes the example join it (``RAY_ADDRESS``, which every example
and a plain ``ray.init()`` honour) instead of starting a second Ray on this small machine.
What an example prints is what its test checks.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from deluge_ray._constants import API_KEY_ENV_VARS, BASE_URL_ENV_VARS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
TIMEOUT = 240

_PROVIDER_VARS = {*BASE_URL_ENV_VARS.values(), *API_KEY_ENV_VARS.values()}


def example_env(ray_address: str | None = None, **extra: str) -> dict[str, str]:
    """This process's environment minus provider keys and base URLs, plus ``extra``."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _PROVIDER_VARS and not k.endswith(("_API_KEY", "_BASE_URL"))
    }
    if ray_address is not None:
        env["RAY_ADDRESS"] = ray_address
    env.update(extra)
    return env


def run_example(
    script: str | Path,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path = EXAMPLES,
    timeout: float = TIMEOUT,
) -> subprocess.CompletedProcess:
    """Run ``examples/<script>`` to completion; it must exit 0 without a traceback."""
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=example_env() if env is None else env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    assert "Traceback" not in result.stderr, result.stderr
    return result
