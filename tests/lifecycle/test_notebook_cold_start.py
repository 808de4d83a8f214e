"""The README's tour, executed as a notebook in a fresh kernel with no Ray running and no
cluster configured, runs to its last cell, and Ray's core processes are alive at the end
(issue 15, item 0).

The kernel's first ``process_prompts_sync`` runs in a cell whose event loop is running, so
the call is served by a short-lived helper thread; Ray must nevertheless be started from a
thread that lives as long as the kernel, or Linux kills ``gcs_server`` and ``raylet`` (their
parent-death signal follows the *thread* that forked them) when that call returns.

The README's ``asyncio.run(...)`` lines are turned into their notebook form (``await``),
which is how they are written in a cell whose loop is already running.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import signal
import tempfile
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from deluge_ray.mock import MockProvider
from tests.support.examples import example_env
from tests.support.notebooks import install_kernel_here

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()

# The last cell: Ray's core processes, children of this kernel, and whether they still run.
CHECK_CELL = """
import os


def ray_core_children():
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2 :].split()[:2]
        if int(ppid) == os.getpid() and name in ("gcs_server", "raylet"):
            found[name] = (int(entry), state)
    return found


print("ray core:", ray_core_children())
"""


# The default progress display (rich) in a kernel without ipywidgets: a text bar in the
# cell's own output, no "install ipywidgets" warning; then a later cell, which the closed
# client's display must leave alone.
BAR_CELL = """
bar_client = LLMClient("gpt-4.1-mini")
(bar_reply,) = bar_client.process_prompts_sync(["a bar in a notebook"])
bar_client.close()
"""
LATER_CELL = 'print("a later cell")'


def tour_cells() -> list[str]:
    blocks = re.findall(r"^```python\n(.*?)^```", README, flags=re.S | re.M)
    assert len(blocks) >= 5, "the README's tour went missing"
    # asyncio.run(x) -> (await x): the same call, in the form a running loop needs.
    return [re.sub(r"asyncio\.run\(", "(await ", block) for block in blocks]


@pytest.fixture
def fresh_kernel(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernel on this interpreter whose environment names no Ray cluster and
    whose Ray temp dir is its own (so it can neither see nor join another Ray here)."""
    kernel_dir = install_kernel_here(tmp_path / "jupyter", timeout=120)
    # A short path: Ray's unix sockets live under it and their paths are length-limited.
    ray_tmp = tempfile.mkdtemp(prefix="drl-", dir="/tmp")
    kept = example_env()
    for name in list(os.environ):
        if name not in kept:  # provider keys and base URLs: the mock's are set below
            monkeypatch.delenv(name)
    for name in ("RAY_ADDRESS", "RAY_AUTH_MODE", "DELUGE_RAY_DEBUG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("RAY_TMPDIR", ray_tmp)
    monkeypatch.setenv("DELUGE_RAY_CACHE_DIR", str(tmp_path / "cache-actors"))
    yield "python3"
    shutil.rmtree(ray_tmp, ignore_errors=True)


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def test_the_tour_runs_as_a_notebook_from_a_cold_start(fresh_kernel, tmp_path, monkeypatch):
    notebook = nbformat.v4.new_notebook()
    cells = [*tour_cells(), BAR_CELL, LATER_CELL, CHECK_CELL]
    notebook.cells = [nbformat.v4.new_code_cell(c) for c in cells]
    core: dict[str, list] = {}
    with MockProvider() as mock:
        for name, value in mock.environment().items():
            monkeypatch.setenv(name, value)
        try:
            NotebookClient(
                notebook,
                kernel_name=fresh_kernel,
                timeout=240,
                resources={"metadata": {"path": str(tmp_path)}},
            ).execute()
        finally:
            last = "".join(o.get("text", "") for o in notebook.cells[-1].get("outputs", []))
            if last.startswith("ray core: "):
                core = ast.literal_eval(last[len("ray core: ") :].strip())
            for pid, _state in core.values():  # the kernel is gone: so must its Ray be
                deadline = time.monotonic() + 30
                while alive(pid) and time.monotonic() < deadline:
                    time.sleep(0.2)
                if alive(pid):
                    os.kill(pid, signal.SIGKILL)
    errors = [o for c in notebook.cells for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    streamed = "".join(o.get("text", "") for c in notebook.cells for o in c.outputs)
    assert "Mock reply to: What is 2 + 2?" in streamed
    assert "requests," in streamed and "429s" in streamed  # the tour's last snippet ran
    bar, later = notebook.cells[-3].outputs, notebook.cells[-2].outputs
    bars = [o["data"]["text/plain"] for o in bar if o.output_type == "display_data"]
    assert len(bars) == 1 and "1/1" in bars[0], bar
    assert "ipywidgets" not in str(bar), bar
    assert [o.get("text") for o in later] == ["a later cell\n"], later
    # gcs_server and raylet, started by this kernel, still running after every cell.
    assert set(core) == {"gcs_server", "raylet"}, core
    assert all(state != "Z" for _pid, state in core.values()), core
