"""Which Ray errors mean a caller went with its node (not counted against its items)."""

from __future__ import annotations

from ray.exceptions import ActorDiedError, ActorUnavailableError, NodeDiedError, WorkerCrashedError

from deluge_ray.client._caller_pool import lost_with_its_node


def died(message: str) -> ActorDiedError:
    error = ActorDiedError()
    error.error_msg = message  # what Ray's GCS wrote as the death cause
    return error


def test_a_dead_or_unreachable_node_is_a_node_loss() -> None:
    assert lost_with_its_node(NodeDiedError("node 3f2a died"))
    assert lost_with_its_node(ActorUnavailableError("RPC error: connection reset", None))
    assert lost_with_its_node(died("The actor died because its node has died. Node Id: 3f2a"))


def test_a_caller_that_died_on_its_own_is_not() -> None:
    assert not lost_with_its_node(died("The actor died unexpectedly before finishing this task."))
    assert not lost_with_its_node(died("Worker exits because it was killed by the OOM killer."))
    assert not lost_with_its_node(WorkerCrashedError())
    assert not lost_with_its_node(ValueError("node died"))  # not Ray's word at all
