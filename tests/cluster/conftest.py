"""A three-node Ray cluster on this machine (``ray.cluster_utils.Cluster``), one per module.

Head and two workers, one CPU each. Worker A offers the custom resource ``control``, so a
RateLimiter or CacheActor placed with ``resource:control`` runs there and, once A is lost,
restarts on the node that replaces it (see :class:`Nodes`). Node deaths are detected in
about five seconds instead of Ray's default fifteen or more (shorter checks declare
nodes of this loaded machine dead by mistake): the health-check settings are
the cluster's own, and the behaviour under test does not depend on them.

The rest of the suite shares one single-node Ray (``ray_cluster`` in ``tests/conftest.py``),
which cannot stay connected while this process joins another cluster: the fixture shuts it
down first and, if it was running, starts it again afterwards with the same settings, so
modules that run later (pytest orders them by path) find it as they expect.

``Cluster`` also writes its address to Ray's machine-wide "current cluster" file, which
makes every plain ``ray.init()`` on this machine (other test runs included) join it instead
of starting its own Ray: the file is put back as it was at once (:func:`kept_address_file`).
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.conftest import start_session_ray

CONTROL = "control"  # the custom resource of the node hosting control-plane actors
_FAST_NODE_DEATH = {
    "health_check_period_ms": 1000,
    "health_check_timeout_ms": 2000,
    "health_check_failure_threshold": 5,
}


class Nodes:
    """The cluster's nodes, and node loss as the tests need it."""

    def __init__(self, cluster: Any) -> None:
        self.cluster = cluster
        self.head = cluster.head_node
        self.control = cluster.add_node(num_cpus=1, resources={CONTROL: 1})
        self.plain = cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()

    def workers(self) -> list[Any]:
        return [self.control, self.plain]

    def replace(self, node: Any, *, add_another: bool = True) -> Any:
        """Kill ``node`` at once (no graceful shutdown) and add a node with its resources
        (unless ``add_another`` is false: the module's last test spares the start-up).

        Returns once Ray has declared the lost node dead and the new one registered, so the
        next test starts on the cluster it expects (a lost node looks alive until its health
        checks fail). Must run on the main thread (Ray installs signal handlers for a new node).
        """
        import ray

        self.cluster.remove_node(node, allow_graceful=False)
        if not add_another:
            return None
        wait_until(
            lambda: not any(n["NodeID"] == node.node_id and n["Alive"] for n in ray.nodes()),
            "the lost node declared dead",
        )
        resources = {CONTROL: 1} if node is self.control else {}
        new = self.cluster.add_node(num_cpus=1, resources=resources)
        self.cluster.wait_for_nodes()  # the next test must find it registered
        if node is self.control:
            self.control = new
        else:
            self.plain = new
        return new

    def node_of(self, handle: Any) -> str:
        """The node id (hex) an actor runs on now."""
        from ray._private import state  # no public call answers this without the dashboard

        return state.actors(handle._actor_id.hex())["Address"]["NodeID"]

    def nodes_of_running(self, handles: list[Any]) -> list[str]:
        """The node of each actor, once every one of them runs (one just created has no
        node yet: Ray places it a moment later)."""
        from ray._private import state

        def states() -> list[dict[str, Any]]:
            return [state.actors(handle._actor_id.hex()) for handle in handles]

        wait_until(lambda: all(s.get("State") == "ALIVE" for s in states()), "every actor running")
        return [s["Address"]["NodeID"] for s in states()]


@contextlib.contextmanager
def kept_address_file() -> Iterator[Callable[[], None]]:
    """Yield a function restoring Ray's current-cluster file; it also runs on exit."""
    from ray._private.utils import get_ray_address_file

    path = get_ray_address_file(None)
    before = open(path).read() if os.path.exists(path) else None

    def restore() -> None:
        if before is None:
            with contextlib.suppress(FileNotFoundError):
                os.remove(path)
        else:
            with open(path, "w") as fh:
                fh.write(before)

    try:
        yield restore
    finally:
        restore()


@pytest.fixture(scope="module")
def nodes() -> Iterator[Nodes]:
    import ray
    from ray.cluster_utils import Cluster

    from deluge_ray.client._runtime import ensure_ray

    session_was_up = ray.is_initialized()
    ray.shutdown()
    with kept_address_file() as restore_address_file:
        cluster = Cluster(
            initialize_head=True,
            head_node_args={"num_cpus": 1, "_system_config": _FAST_NODE_DEATH},
        )
        restore_address_file()
        try:
            the_nodes = Nodes(cluster)
            # Joined the way a user's driver joins (and keeps Ray's fault chatter quiet).
            ensure_ray(cluster.address)
            yield the_nodes
        finally:
            ray.shutdown()
            cluster.shutdown()
    if session_was_up:
        start_session_ray()


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 120.0) -> None:
    """Poll for a state change (a readiness check: how long it takes is not asserted)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)
