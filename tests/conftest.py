"""Shared fixtures: one Ray cluster per test session, and quiet, offline defaults."""

from __future__ import annotations

import os

# Set before anything imports ray: no usage-stats prompt, no token-auth banner, and token
# counting that never tries to download tiktoken files (these machines have no internet).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("DELUGE_RAY_TOKENIZER", "estimate")

import pytest

# The session's Ray; tests/cluster/ starts it again with these after its multi-node cluster.
SESSION_RAY_ARGS = {
    "num_cpus": 2,
    "include_dashboard": False,
    "log_to_driver": False,
    "namespace": "deluge_ray",
}


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster shared by every test that needs one (start-up costs 3-7 s)."""
    import ray

    if not ray.is_initialized():
        ray.init(**SESSION_RAY_ARGS)
    yield ray
    ray.shutdown()
