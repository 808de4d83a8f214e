"""The README is true: its set-up commands are the CI's, and its Python snippets run."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from deluge_ray.mock import MockProvider

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _code_blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)


def test_set_up_starts_with_the_demo_and_the_test_command_that_ci_runs() -> None:
    bash = _code_blocks("bash")
    assert bash[0].strip() == "pip install -e . && deluge-ray demo"
    assert bash[1].strip() == "pip install -e '.[dev]' && pytest"
    ci = (ROOT / ".ci" / "run").read_text()
    assert bash[1].strip() in ci.splitlines()


def test_every_python_snippet_runs_in_order_against_the_mock(tmp_path, ray_cluster) -> None:
    script = "\n\n".join(_code_blocks("python"))
    assert "LLMClient" in script and script.count("\n") > 50, "snippets went missing"
    (tmp_path / "readme_snippets.py").write_text(script)
    with MockProvider() as mock:
        env = {
            **os.environ,
            **mock.environment(),
            # Join the session's cluster instead of starting another Ray.
            "RAY_ADDRESS": ray_cluster.get_runtime_context().gcs_address,
            "DELUGE_RAY_CACHE_DIR": str(tmp_path / "cache-actors"),
        }
        result = subprocess.run(
            [sys.executable, "readme_snippets.py"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
        requests = mock.stats()["requests"]
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    out = result.stdout
    assert "Mock reply to: What is 2 + 2?" in out
    assert "country=" in out and "capital=" in out  # the structured answer parsed
    assert "True" in out  # the second cached call was a local cache hit
    assert "\n2 256\n" in out  # two embedding vectors stacked (a list, as in lm-deluge)
    assert requests > 0


def test_benchmark_figures_in_the_readme_are_the_ones_results_md_holds() -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    section = README.split("## Benchmarks", 1)[1].split("\n## ", 1)[0]
    figures = re.findall(r"(?<![\w.])\d[\d,]*\.\d+|(?<![\w.])\d{1,3}(?:,\d{3})+", section)
    assert len(figures) >= 10, "the benchmark table went missing from the README"
    missing = [f for f in figures if f not in results]
    assert not missing, f"README quotes figures that benchmarks/RESULTS.md does not hold: {missing}"
