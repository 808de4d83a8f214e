"""Where actors go: the choices of ``DELUGE_RAY_CONTROL_NODE``, and the data plane's rotation
over the nodes (no Ray needed).

That the default really lands on the head node, and that three callers or SubAgents take
three nodes, is checked on a real three-node cluster in ``test_node_loss.py``.
"""

from __future__ import annotations

import pytest

from deluge_ray.actors._placement import CONTROL_NODE_ENV, control_placement, pick_in_turn
from deluge_ray.errors import ConfigurationError


def test_a_resource_selects_the_nodes_offering_it_without_using_it_up(monkeypatch) -> None:
    monkeypatch.setenv(CONTROL_NODE_ENV, "resource:on_demand")
    assert control_placement() == {"resources": {"on_demand": 0.001}}
    assert control_placement("any") == {}  # the argument wins over the variable


def test_a_node_id_is_a_soft_affinity_so_the_actor_can_still_restart_elsewhere() -> None:
    node_id = "ab" * 28
    strategy = control_placement(node_id.upper())["scheduling_strategy"]
    assert (strategy.node_id, strategy.soft) == (node_id, True)


@pytest.mark.parametrize("bad", ["heads", "resource:", "node-7", "resource:a b"])
def test_anything_else_is_refused_naming_the_variable_and_the_choices(bad, monkeypatch) -> None:
    monkeypatch.setenv(CONTROL_NODE_ENV, bad)
    with pytest.raises(ConfigurationError, match=f"{CONTROL_NODE_ENV}.*'head', 'any'") as info:
        control_placement()
    assert repr(bad) in str(info.value)


def test_data_plane_actors_take_the_nodes_in_turn_starting_here() -> None:
    alive = ["c" * 56, "a" * 56, "b" * 56]
    here = "b" * 56
    picks = [pick_in_turn(alive, here=here, avoid=(), turn=turn) for turn in range(6)]
    assert picks[:3] == [here, "c" * 56, "a" * 56]  # any three in a row: three nodes
    assert picks[3:] == picks[:3]


def test_a_replacement_skips_the_node_it_replaces_and_one_node_is_left_to_ray() -> None:
    alive = ["a" * 56, "b" * 56]
    lost = "a" * 56
    assert {pick_in_turn(alive, here=lost, avoid={lost}, turn=t) for t in range(4)} == {"b" * 56}
    assert pick_in_turn(alive[:1], here=lost, avoid=(), turn=0) is None
    assert pick_in_turn(alive, here=lost, avoid=set(alive), turn=0) is None
