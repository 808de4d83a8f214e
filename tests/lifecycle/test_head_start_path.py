"""What surrounds the machine-wide head's start (issue 15, items 1 and 2): stopping a head
that ignores SIGTERM, the imports done while a head starts, the interpreter check on
joining, and the finer wait for a new node. The real head is exercised in
``test_machine_head``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import warnings

from deluge_ray.client import _runtime
from deluge_ray.client._head_state import HeadRecord, process_start_ticks, wait_for_exit
from deluge_ray.client._local_head import terminate_head

# A head that ignores SIGTERM, with a child in its process group (as Ray's agents are:
# children of the raylet, not of the head's process). Prints the child's pid.
_STUBBORN_HEAD = """
import signal, subprocess, sys
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "import signal; signal.pause()"])
print(child.pid, flush=True)
signal.pause()
"""


def test_a_head_that_ignores_sigterm_is_killed_with_its_whole_process_group():
    head = subprocess.Popen(
        [sys.executable, "-c", _STUBBORN_HEAD],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,  # as _local_head starts the real one
    )
    assert head.stdout is not None
    child_pid = int(head.stdout.readline())
    child_ticks = process_start_ticks(child_pid)
    record = HeadRecord(
        address="127.0.0.1:1",
        head_pid=head.pid,
        head_start_ticks=process_start_ticks(head.pid),
        started_at=time.time(),
        idle_timeout_s=None,
        ray_temp_dir="/nonexistent",
        python=sys.executable,
    )
    try:
        terminate_head(record, timeout=0.5)
        head.wait(10)
        assert head.returncode == -9
        assert wait_for_exit(child_pid, child_ticks, 10)  # the child did not outlive its head
    finally:
        for pid in (head.pid, child_pid):
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass


_WARM = """
import json, sys
from deluge_ray.client._prewarm import warm_while
wanted = ["deluge_ray.client._caller_pool", "deluge_ray.actors.provider_caller",
          "deluge_ray.actors.rate_limiter", "pyarrow", "starlette.datastructures"]
before = [m for m in wanted if m in sys.modules]
checks = []
def pending_twice():
    checks.append(1)
    return len(checks) <= 2
first = warm_while(pending_twice)
rest = warm_while(lambda: True)
print(json.dumps({"before": before, "first": first, "rest": rest,
                  "after": [m for m in wanted if m in sys.modules]}))
"""


def test_the_imports_done_while_a_head_starts_stop_when_it_is_up():
    out = subprocess.run(
        [sys.executable, "-c", _WARM], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["before"] == []  # a fresh process: none of them loaded yet
    assert report["first"] == 2  # stopped at the first look that found the head up
    assert report["rest"] == 4
    # Ours, and those Ray's serializer would import on the first remote call.
    assert len(report["after"]) == 5, report


def _join_with_record(monkeypatch, python: str) -> list[str]:
    record = HeadRecord(
        address="127.0.0.1:1",
        head_pid=1,
        head_start_ticks=None,
        started_at=time.time(),
        idle_timeout_s=None,
        ray_temp_dir="/nonexistent",
        python=python,
    )
    monkeypatch.setattr(_runtime, "ensure_local_head", lambda: record)
    monkeypatch.setattr(_runtime, "_join", lambda ray, target, probe=True: None)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _runtime._join_local_head(object(), None)  # type: ignore[arg-type]
    return [str(w.message) for w in caught]


def test_joining_a_head_of_the_same_python_by_another_path_says_nothing(monkeypatch, tmp_path):
    # `deluge-ray up` runs as .../bin/python3.11, a script as .../bin/python: one Python.
    alias = tmp_path / "python-alias"
    alias.symlink_to(os.path.realpath(sys.executable))
    assert _join_with_record(monkeypatch, str(alias)) == []


def test_joining_a_head_of_another_python_says_so(monkeypatch, tmp_path):
    messages = _join_with_record(monkeypatch, "/opt/other/bin/python3")
    assert len(messages) == 1 and "/opt/other/bin/python3" in messages[0]
    assert "deluge-ray down" in messages[0]


class _Nodes:
    """Stands in for Ray's GCS client: the node registers at the ``registers_at``-th look."""

    def __init__(self, node_id: str, registers_at: int, fail: bool = False) -> None:
        self.node_id, self.registers_at, self.fail = node_id, registers_at, fail
        self.looks = 0

    def __call__(self, address: str) -> _Nodes:
        return self

    def get_all_node_info(self, timeout: float) -> dict:
        self.looks += 1
        if self.fail:
            raise RuntimeError("a GCS client of another Ray version")
        registered = self.looks >= self.registers_at
        return {bytes.fromhex(self.node_id): object()} if registered else {}


def _finely_waited_get_node(monkeypatch, nodes: _Nodes, node_id: str) -> list[str]:
    import ray._raylet
    from ray._private import services

    from deluge_ray.client import _node_start

    asked: list[str] = []
    rays_own = lambda address, node_id: asked.append(node_id)  # noqa: E731
    monkeypatch.setattr(services, "get_node", rays_own)
    monkeypatch.setattr(ray._raylet, "GcsClient", nodes)
    monkeypatch.setattr(_node_start, "POLL_S", 0.0)
    with _node_start.finer_registration_wait():
        services.get_node("127.0.0.1:1", node_id)  # as ray.init calls it
    assert services.get_node is rays_own  # put back after the block
    return asked


def test_a_new_node_is_waited_for_in_fine_steps_then_ray_asks(monkeypatch):
    node_id = "ab" * 28
    nodes = _Nodes(node_id, registers_at=3)
    asked = _finely_waited_get_node(monkeypatch, nodes, node_id)
    assert nodes.looks == 3  # looked until the node was there, then stopped
    assert asked == [node_id]  # and Ray's own look followed, once


def test_the_wait_is_left_to_ray_when_its_client_is_not_as_expected(monkeypatch):
    node_id = "cd" * 28
    nodes = _Nodes(node_id, registers_at=1, fail=True)
    asked = _finely_waited_get_node(monkeypatch, nodes, node_id)
    assert nodes.looks == 1 and asked == [node_id]


def test_a_ray_started_within_the_block_gives_its_agent_any_free_port():
    from ray._private import parameter

    from deluge_ray.client._node_start import agent_port_chosen_by_os

    rays_own = parameter.RayParams
    with agent_port_chosen_by_os():
        assert parameter.RayParams().dashboard_agent_listen_port == 0  # as ray.init builds it
        chosen = parameter.RayParams(dashboard_agent_listen_port=7000)
        assert chosen.dashboard_agent_listen_port == 7000  # a port the caller set stands
    assert parameter.RayParams is rays_own  # put back after the block
    assert rays_own().dashboard_agent_listen_port == 52365  # Ray's fixed default, outside


def test_the_agent_port_is_left_to_ray_when_its_parameters_are_not_as_expected(monkeypatch):
    from ray._private import parameter

    from deluge_ray.client._node_start import agent_port_chosen_by_os

    monkeypatch.setattr(parameter, "RayParams", None)  # another Ray's layout
    with agent_port_chosen_by_os():
        assert parameter.RayParams is None
    assert parameter.RayParams is None
