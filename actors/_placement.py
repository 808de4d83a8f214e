"""Where the control-plane actors (RateLimiter, CacheActor) run: the head node by default.

Every client of a key depends on one RateLimiter, and every job sharing a cache on one
CacheActor. Worker nodes come and go (spot instances, autoscaling down); the head node
lives as long as the cluster (losing it loses the cluster, unless GCS fault tolerance
brings it back, and the actors with it). So both ask for a sliver of the resource Ray gives
the head node alone, ``node:__internal_head__``.

``DELUGE_RAY_CONTROL_NODE`` (read by the process that creates the actor) overrides that:

* ``head`` (the default): on the head node (anywhere, if this Ray has no such resource);
* ``any``: Ray's default scheduling;
* ``resource:NAME``: on a node offering the custom resource ``NAME`` (``ray start
  --resources='{"NAME": 1}'``). A lost actor restarts on another node offering it, or waits
  until one joins: label the nodes you trust (on-demand, not spot) this way;
* a node id (the hex string of ``ray.nodes()[i]["NodeID"]``): a soft affinity to that
  node, which Ray treats as a preference only (it may place the actor elsewhere).

The functions taking a ``placement=`` argument use it instead of the variable.

>>> control_placement("any")
{}
"""

from __future__ import annotations

import os
import re
from typing import Any

from deluge_ray.errors import ConfigurationError

__all__ = ["CONTROL_NODE_ENV", "control_placement"]

CONTROL_NODE_ENV = "DELUGE_RAY_CONTROL_NODE"

_NODE_ID = re.compile(r"^[0-9a-f]{56}$")
_RESOURCE = re.compile(r"^resource:([A-Za-z0-9_.:-]{1,100})$")
# A sliver of a resource: it selects a node without using up what it offers.
_SLIVER = 0.001
# Ray gives the head node this resource (and only the head node).
_HEAD_RESOURCE = "node:__internal_head__"


# The head node id per cluster (GCS address): asked once, since a head outlives its cluster's
# clients and ray.nodes() is a GCS round trip every client creation would otherwise pay.
_head_by_cluster: dict[str, str | None] = {}


def _has_head_resource() -> bool:
    import ray

    cluster = ray.get_runtime_context().gcs_address
    if cluster not in _head_by_cluster:
        alive = [node for node in ray.nodes() if node.get("Alive")]
        heads = [n["NodeID"] for n in alive if _HEAD_RESOURCE in n.get("Resources", {})]
        _head_by_cluster[cluster] = heads[0] if heads else None
    return _head_by_cluster[cluster] is not None


def control_placement(placement: str | None = None) -> dict[str, Any]:
    """Actor options placing a control-plane actor (see the module docstring).

    ``placement`` is ``"head"``, ``"any"``, ``"resource:NAME"`` or a node id; ``None``
    reads ``DELUGE_RAY_CONTROL_NODE`` (default ``"head"``). Needs a connected Ray for
    ``"head"``.

    >>> control_placement("resource:on_demand")
    {'resources': {'on_demand': 0.001}}
    """
    raw = placement if placement is not None else os.environ.get(CONTROL_NODE_ENV, "")
    choice = raw.strip() or "head"
    if choice.lower() == "any":
        return {}
    if choice.lower() == "head":
        # Without the head's resource (an older Ray, a Ray client), let Ray choose.
        return {"resources": {_HEAD_RESOURCE: _SLIVER}} if _has_head_resource() else {}
    if match := _RESOURCE.match(choice):
        return {"resources": {match.group(1): _SLIVER}}
    if _NODE_ID.match(choice.lower()):
        from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

        # Soft: a hard affinity to a lost node would keep the actor from ever restarting.
        return {"scheduling_strategy": NodeAffinitySchedulingStrategy(choice.lower(), soft=True)}
    raise ConfigurationError(
        f"{CONTROL_NODE_ENV} (or placement=) must be 'head', 'any', 'resource:NAME' or a Ray "
        f"node id (56 hex digits, as in ray.nodes()), got {choice!r}"
    )
