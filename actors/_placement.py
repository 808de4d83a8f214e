"""Where actors run: the control plane on the head node, the data plane on every node in turn.

**Control plane** (RateLimiter, CacheActor): the head node by default.

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

**Data plane** (ProviderCaller, SubAgent): :func:`next_spread_node` sends each new actor to
the next alive node, in a rotation that starts at this process's own node. These actors
ask for no CPU, and Ray places an actor that asks for no resource at all on a node of its
own choosing, ignoring any scheduling strategy: with ``SPREAD``, used before, three new
actors on a three-node cluster here left a node out in nine rounds of twelve, and once
all went to one node, so losing that node lost every caller at once. So
:func:`spread_placement` also asks for one byte of ``memory``, a resource every node
offers, which makes Ray honour the node it names (checked the same way: six rounds of
six). The affinity is soft: an actor whose node is gone, or cannot take it, starts
wherever Ray puts it.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Collection
from typing import Any

from deluge_ray.errors import ConfigurationError

__all__ = ["CONTROL_NODE_ENV", "control_placement", "next_spread_node", "spread_placement"]

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


# Bytes of Ray's ``memory`` resource a data-plane actor asks for: any request at all makes
# Ray apply the actor's scheduling strategy, and one byte uses up nothing a node could miss.
_HONOURED_PLACEMENT_MEMORY = 1

# How many data-plane actors this process has placed: the n-th goes to node n of the
# rotation, so any run of consecutive actors covers as many distinct nodes as it can.
_spread_turns = itertools.count()


def next_spread_node(avoid: Collection[str] = ()) -> str | None:
    """The node (hex id) the next data-plane actor goes to; ``None``: let Ray choose.

    The rotation is this process's node, then the other alive nodes ordered by id; it is
    read again for every actor (one GCS round trip, under a millisecond), so a node that
    joined is used from the next actor on, and a lost one is skipped once Ray declares it
    dead. Until then (seconds to a minute, by the cluster's health checks) it still looks
    alive: ``avoid`` names nodes to skip anyway, such as the node of the actor being
    replaced. On a single node, or with every node avoided, there is nothing to choose.
    Needs a connected Ray.
    """
    import ray

    alive = [node["NodeID"] for node in ray.nodes() if node.get("Alive")]
    here = ray.get_runtime_context().get_node_id()
    return pick_in_turn(alive, here=here, avoid=avoid, turn=next(_spread_turns))


def pick_in_turn(alive: list[str], *, here: str, avoid: Collection[str], turn: int) -> str | None:
    """Node ``turn`` of the rotation over ``alive`` (see :func:`next_spread_node`).

    >>> [pick_in_turn(["c", "a", "b"], here="b", avoid=(), turn=t) for t in range(4)]
    ['b', 'c', 'a', 'b']
    >>> pick_in_turn(["a", "b"], here="a", avoid=("a",), turn=0)
    'b'
    >>> pick_in_turn(["a"], here="a", avoid=(), turn=1) is None  # one node: Ray's choice
    True
    """
    ordered = sorted(alive)
    if here in ordered:
        start = ordered.index(here)
        ordered = ordered[start:] + ordered[:start]
    choices = [node for node in ordered if node not in avoid]
    if len(ordered) < 2 or not choices:
        return None
    return choices[turn % len(choices)]


def spread_placement(node: str | None) -> dict[str, Any]:
    """Actor options for a data-plane actor bound for ``node`` (see :func:`next_spread_node`).

    A soft affinity: if the node is gone or cannot take the actor, Ray places it elsewhere.
    With the one byte of ``memory`` that makes Ray apply it (see the module docstring).

    >>> spread_placement(None)
    {}
    """
    if node is None:
        return {}
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    strategy = NodeAffinitySchedulingStrategy(node, soft=True)
    return {"scheduling_strategy": strategy, "memory": _HONOURED_PLACEMENT_MEMORY}
