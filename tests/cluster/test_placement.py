"""Where control-plane actors go: the choices of ``DELUGE_RAY_CONTROL_NODE`` (no Ray needed).

That the default really lands on the head node is checked on a real three-node cluster in
``test_node_loss.py``.
"""

from __future__ import annotations

import pytest

from deluge_ray.actors._placement import CONTROL_NODE_ENV, control_placement
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
