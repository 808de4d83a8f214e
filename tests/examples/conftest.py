"""Fixtures for the example smoke tests (the runner itself is ``tests/support/examples.py``).

Instead of starting a Ray per example, they join the session's cluster.
"""

from __future__ import annotations

import pytest

from deluge_ray._secrets import key_fingerprint
from tests.support.examples import example_env as _example_env


@pytest.fixture(scope="session")
def ray_address(ray_cluster) -> str:
    return ray_cluster.get_runtime_context().gcs_address


@pytest.fixture
def example_env(ray_address) -> dict[str, str]:
    """A user's environment with no provider key set, joined to the session's Ray."""
    return _example_env(ray_address)


def kill_limiter(ray, provider: str, key: str) -> None:
    """End the (detached) RateLimiter a test created for a key only it used."""
    try:
        ray.kill(
            ray.get_actor(f"limiter:{provider}:{key_fingerprint(key)}", namespace="deluge_ray")
        )
    except ValueError:
        pass  # never created
