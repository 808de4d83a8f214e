"""Shared fixtures: one Ray cluster per test session, and quiet, offline defaults."""

from __future__ import annotations

import os

# Set before anything imports ray: no usage-stats prompt, no token-auth banner, and token
# counting that never tries to download tiktoken files (these machines have no internet).
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
os.environ.setdefault("RAY_AUTH_MODE", "disabled")
os.environ.setdefault("DELUGE_RAY_TOKENIZER", "estimate")
# Every Ray a test (or a script a test runs) starts is its own and ends with it: never the
# machine-wide local head, which would outlive the test and be shared with whoever else
# runs deluge_ray here. Tests of that head set their own state directory and this back.
os.environ["DELUGE_RAY_LOCAL"] = "process"

import pytest

# The session's Ray; tests/cluster/ starts it again with these after its multi-node cluster.
SESSION_RAY_ARGS = {
    # "local": always a new Ray of this session, never one that ray_current_cluster or a
    # running head on this machine (another test's, another user's) points at.
    "address": "local",
    "num_cpus": 2,
    "include_dashboard": False,
    "log_to_driver": False,
    "namespace": "deluge_ray",
}


def start_session_ray() -> None:
    """``ray.init`` the session's Ray the way deluge_ray starts one of its own.

    In particular its dashboard agent takes any free port, not Ray's fixed one: a Ray that
    a test's process starts beside it (every test of a script with ``DELUGE_RAY_LOCAL=process``)
    would otherwise find the port taken and wait 3 s for it (see ``client/_node_start``).
    """
    import ray

    from deluge_ray.client._node_start import quick_node_start

    with quick_node_start():
        ray.init(**SESSION_RAY_ARGS)


@pytest.fixture(scope="session")
def ray_cluster():
    """A local Ray cluster shared by every test that needs one (start-up costs 3-7 s)."""
    import ray

    if not ray.is_initialized():
        start_session_ray()
    yield ray
    ray.shutdown()
