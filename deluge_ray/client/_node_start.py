"""How our processes start a Ray node: two changes to ``ray.init``'s start, nothing else.

Used by the machine-wide head's process (``_head_main``) and by ``DELUGE_RAY_LOCAL=process``'s
start, through :func:`quick_node_start`. Each falls back to Ray's own behaviour if Ray's
internals are not as expected.

**A finer wait for the node's registration** (:func:`finer_registration_wait`). Inside
``ray.init`` that starts a Ray, Ray waits for the new raylet to register with the GCS by
asking in steps of a whole second, so a start took about 2.3 s or 3.3 s, whichever step the
raylet made (measured 2026-12-05 on the 2-core machine). Within the block, Ray's look
(``ray._private.services.get_node``) is preceded by one of ours every :data:`POLL_S`
seconds, and Ray's then finds the node at once: 2.0-2.2 s in 4 runs of 5 (one took 2.9 s,
its raylet registering late).

**The dashboard agent's HTTP port chosen by the system** (:func:`agent_port_chosen_by_os`).
``ray.init`` gives every node's dashboard agent the fixed port 52365, and the raylet
registers only once its agent has tried it. With another Ray on the machine (a user's own
``ray.init()`` in a notebook, a ``DELUGE_RAY_LOCAL=process`` script beside the head), the
second start's agent retried the taken port five times and gave up: 3 s more (measured
2026-12-05: a head started beside another took 6.4-6.9 s instead of 3.2-5.1 s; with this,
4.1-4.4 s). Within the block the port is 0 (any free one); the agent reports the port it
got to the GCS, where Ray's own tools look it up. Ray's ``cluster_utils`` does the same
for its extra nodes.

    >>> with quick_node_start():  # doctest: +SKIP
    ...     ray.init(address="local")
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from typing import Any

__all__ = [
    "POLL_S",
    "REGISTRATION_WAIT_S",
    "agent_port_chosen_by_os",
    "finer_registration_wait",
    "quick_node_start",
]

#: How often, and for how long at most, the new node's registration is looked for.
POLL_S = 0.02
REGISTRATION_WAIT_S = 30.0


@contextlib.contextmanager
def finer_registration_wait() -> Iterator[None]:
    """Within this block, Ray's wait for a new node's registration looks every 20 ms."""
    try:
        from ray._private import services
        from ray._raylet import GcsClient
    except ImportError:  # another Ray layout: its own wait stands
        yield
        return
    ray_get_node: Callable[[str, str], Any] | None = getattr(services, "get_node", None)
    if ray_get_node is None:
        yield
        return

    def get_node(gcs_address: str, node_id: str) -> Any:
        try:
            client = GcsClient(address=gcs_address)
            deadline = time.monotonic() + REGISTRATION_WAIT_S
            while time.monotonic() < deadline:
                nodes = client.get_all_node_info(timeout=5)
                if any(seen.hex() == node_id for seen in nodes):
                    break
                time.sleep(POLL_S)
        except Exception:  # anything unexpected: leave the waiting to Ray
            pass
        return ray_get_node(gcs_address, node_id)

    services.get_node = get_node
    try:
        yield
    finally:
        services.get_node = ray_get_node


@contextlib.contextmanager
def agent_port_chosen_by_os() -> Iterator[None]:
    """Within this block, a Ray node ``ray.init`` starts gives its dashboard agent any free port."""
    try:
        from ray._private import parameter
    except ImportError:  # another Ray layout: its fixed port stands
        yield
        return
    ray_params = getattr(parameter, "RayParams", None)
    if not isinstance(ray_params, type):
        yield
        return

    class RayParamsWithAnyAgentPort(ray_params):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("dashboard_agent_listen_port", 0)
            super().__init__(*args, **kwargs)

    # ray.init builds its parameters as ray._private.parameter.RayParams(...), looked up
    # at the call.
    parameter.RayParams = RayParamsWithAnyAgentPort
    try:
        yield
    finally:
        parameter.RayParams = ray_params


@contextlib.contextmanager
def quick_node_start() -> Iterator[None]:
    """Both of this module's changes to a Ray start, for one ``ray.init``."""
    with finer_registration_wait(), agent_port_chosen_by_os():
        yield
