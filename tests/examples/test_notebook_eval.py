"""examples/notebook_eval.ipynb, executed cell by cell in a real Jupyter kernel."""

from __future__ import annotations

import nbformat
import pytest
from nbclient import NotebookClient

from tests.support.examples import EXAMPLES, TIMEOUT
from tests.support.notebooks import install_kernel_here

NOTEBOOK = EXAMPLES / "notebook_eval.ipynb"


@pytest.fixture
def kernel_on_this_interpreter(tmp_path, monkeypatch) -> str:
    """A ``python3`` kernelspec that runs this interpreter, found before any other."""
    kernel_dir = install_kernel_here(tmp_path / "jupyter", timeout=TIMEOUT)
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    return "python3"


def text_of(cell) -> str:
    """Everything a code cell showed: streams and the plain/markdown form of results."""
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            data = output.data
            parts.append(data.get("text/markdown") or data.get("text/plain", ""))
    return "".join(parts)


def test_the_eval_notebook_runs_and_scores_the_answers(
    kernel_on_this_interpreter, example_env, monkeypatch
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)  # the kernel inherits this environment
    monkeypatch.setenv("RAY_ADDRESS", example_env["RAY_ADDRESS"])
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    assert notebook.metadata.kernelspec.name == "python3"

    NotebookClient(
        notebook,
        kernel_name=kernel_on_this_interpreter,
        timeout=TIMEOUT,
        resources={"metadata": {"path": str(EXAMPLES)}},
    ).execute()

    code = [c for c in notebook.cells if c.cell_type == "code"]
    shown = [text_of(c) for c in code]
    assert all(o.output_type != "error" for c in code for o in c.outputs)
    everything = "\n".join(shown)
    assert "OPENAI_API_KEY is not set: asking the mock provider" in everything
    # process_prompts_sync was called from a cell whose event loop was running.
    assert "event loop running in this cell: True" in everything
    assert "score: 5/6 (83%)" in everything
    table = next(s for s in shown if s.startswith("| question | expected | answer | correct |"))
    rows = [line.split(" | ") for line in table.splitlines()[2:]]
    assert len(rows) == 6
    assert [r[-1].rstrip(" |") for r in rows] == ["yes"] * 5 + ["no"]
    assert rows[0][0] == "| What is the capital of France?" and rows[0][2] == "Paris"
    assert rows[-1][2] == "I am not sure."
    assert "6 requests, total cost $" in everything
    assert "the mock provider received 6 requests" in everything
