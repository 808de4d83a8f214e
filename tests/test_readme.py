"""The README is true: its set-up commands are the CI's, its shell blocks and its Python
snippets run as printed, and what they print is checked value by value."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from deluge_ray.mock import MockProvider
from tests.support.examples import example_env

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()

DEMO = "pip install -e . && deluge-ray demo"
TESTS = "pip install -e '.[dev]' && pytest"
CLUSTER_INSTALL = "pip install -e '.[cluster]'"

# README shell blocks no test here runs, each with why. Every other block is run as printed
# by one of the tests below (test_every_shell_block_is_run_or_listed keeps this honest).
NOT_RUN_OFFLINE = {
    TESTS: "the CI command itself: .ci/run runs exactly this line on a clean clone (checked "
    "below), and pytest cannot usefully run itself from inside a test",
    CLUSTER_INSTALL: "downloads ray[default] from the package index; the extra's contents are "
    "checked in tests/test_packaging.py",
}
# A real `ray job submit` needs a running cluster with its dashboard; the block's entrypoint
# (the command after `--`) is run in a copy of its working directory instead.
CLUSTER_SUBMIT_PREFIX = "ray job submit "


def _code_blocks(language: str) -> list[str]:
    return [b.strip() for b in re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.S | re.M)]


def _block_starting(prefix: str) -> str:
    (block,) = [b for b in _code_blocks("bash") if b.startswith(prefix)]
    return block


def _repo_copy(tmp_path: Path) -> Path:
    """The repository's files in tmp, as a fresh clone would have them (no build output)."""
    copy = tmp_path / "repo"
    ignore = shutil.ignore_patterns(
        ".git", "__pycache__", "*.egg-info", ".ruff_cache", "deluge-ray-demo", "*.sqlite"
    )
    shutil.copytree(ROOT, copy, ignore=ignore)
    return copy


def _shell_env(base: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """``base`` with this venv's scripts on PATH and ``pip`` replaced by a recorder.

    The package is already installed (editable) in this venv; reinstalling it from a temp
    copy would repoint the venv. The recorder logs the arguments so the test can check the
    block asked for the right install, which CI performs for real.
    """
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pip = bin_dir / "pip"
    pip.write_text(f'#!/bin/sh\necho "$*" >> {shlex.quote(str(tmp_path / "pip-calls"))}\n')
    pip.chmod(0o755)
    path = os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent), base["PATH"]])
    return {**base, "PATH": path}


def _run_block(block: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", block],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_set_up_starts_with_the_demo_and_the_test_command_that_ci_runs() -> None:
    bash = _code_blocks("bash")
    assert bash[:2] == [DEMO, TESTS]
    ci = (ROOT / ".ci" / "run").read_text()
    assert TESTS in ci.splitlines()


def test_every_shell_block_is_run_or_listed_with_its_reason() -> None:
    run_by_tests = {
        DEMO,
        _block_starting("deluge-ray run "),
        _block_starting(CLUSTER_SUBMIT_PREFIX),
    }
    blocks = set(_code_blocks("bash"))
    assert set(NOT_RUN_OFFLINE) <= blocks, "NOT_RUN_OFFLINE lists a block the README lost"
    unaccounted = blocks - run_by_tests - set(NOT_RUN_OFFLINE)
    assert not unaccounted, f"run these README blocks in a test, or list them: {unaccounted}"


def test_the_demo_block_runs_as_printed(tmp_path, ray_cluster) -> None:
    repo = _repo_copy(tmp_path)
    env = _shell_env(example_env(ray_cluster.get_runtime_context().gcs_address), tmp_path)
    result = _run_block(DEMO, repo, env)
    assert (tmp_path / "pip-calls").read_text() == "install -e .\n"
    rows = _rows(repo / "deluge-ray-demo" / "results.jsonl")
    assert len(rows) == 3_000 and len({r["id"] for r in rows}) == 3_000
    assert all(r["error"] is None for r in rows)
    # The summary ends with where the results are (the demo's whole run, as a user sees it).
    unwrapped = "".join(result.stdout.split())  # the terminal width wraps long lines
    assert f"results:{repo / 'deluge-ray-demo' / 'results.jsonl'}" in unwrapped


def test_the_command_line_block_runs_as_printed_against_the_mock(tmp_path, ray_cluster) -> None:
    block = _block_starting("deluge-ray run ")
    repo = _repo_copy(tmp_path)
    inputs = (repo / "examples/data/prompts.jsonl").read_text().splitlines()
    with MockProvider() as mock:
        base = {**example_env(ray_cluster.get_runtime_context().gcs_address), **mock.environment()}
        _run_block(block, repo, _shell_env(base, tmp_path))
        requests = mock.stats()["requests"]
    rows = _rows(repo / "results.jsonl")
    assert len(rows) == len({r["id"] for r in rows}) == len(inputs)  # every line, once
    assert all(r["error"] is None and r["completion"] for r in rows), rows
    assert requests >= len(inputs)


def test_the_cluster_job_entrypoint_runs_in_its_working_dir(tmp_path, ray_cluster) -> None:
    words = shlex.split(_block_starting(CLUSTER_SUBMIT_PREFIX))
    working_dir = words[words.index("--working-dir") + 1]
    entrypoint = words[words.index("--") + 1 :]
    assert entrypoint[:2] == ["deluge-ray", "run"]
    output = entrypoint[entrypoint.index("-o") + 1]
    assert os.path.isabs(output), "a relative -o lands in Ray's temporary copy of the job"
    # What Ray does on the cluster: unpack the working dir and run the entrypoint in it. The
    # output goes to this test's tmp instead of the README's absolute path on the head node.
    job_dir = tmp_path / "job"
    shutil.copytree(ROOT / working_dir, job_dir)
    entrypoint[entrypoint.index("-o") + 1] = str(tmp_path / "results.jsonl")
    inputs = (job_dir / entrypoint[2]).read_text().splitlines()
    with MockProvider() as mock:
        base = {**example_env(ray_cluster.get_runtime_context().gcs_address), **mock.environment()}
        _run_block(shlex.join(entrypoint), job_dir, _shell_env(base, tmp_path))
    rows = _rows(tmp_path / "results.jsonl")
    assert len(rows) == len(inputs) and all(r["error"] is None for r in rows)


def _match_in_order(out: str, patterns: list[str]) -> list[re.Match]:
    """Each pattern must match a whole line, each after the previous pattern's line."""
    lines = out.splitlines()
    found, at = [], 0
    for pattern in patterns:
        for i in range(at, len(lines)):
            match = re.fullmatch(pattern, lines[i])
            if match:
                found.append(match)
                at = i + 1
                break
        else:
            raise AssertionError(f"no line matching {pattern!r} after line {at} of:\n{out}")
    return found


def test_every_python_snippet_runs_in_order_against_the_mock(tmp_path, ray_cluster) -> None:
    script = "\n\n".join(_code_blocks("python"))
    assert "LLMClient" in script and script.count("\n") > 50, "snippets went missing"
    (tmp_path / "readme_snippets.py").write_text(script)
    with MockProvider() as mock:
        env = {
            **example_env(ray_cluster.get_runtime_context().gcs_address),
            **mock.environment(),
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
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    money = r"\$(\d+\.\d{6})"
    (two, prime, capital, *facts, hit, _water, weather, swarm, streamed, shape, rehearsal) = (
        _match_in_order(
            result.stdout,
            [
                rf"Mock reply to: What is 2 \+ 2\? (\d+) {money}",
                rf"Mock reply to: Name a prime number\. (\d+) {money}",
                r"country='(.*)' capital='(.*)'",
                *[r"(\d+) Mock reply to: fact (\d)"] * 3,
                r"(True|False)",
                r"Mock reply to: Is water wet\?",
                r"(.+) (no_tool_calls|max_rounds|error)",
                r"(\d+) (.+)",
                r"(\d+)",
                r"(\d+) (\d+)",
                r"(\d+) requests, (\d+) 429s",
            ],
        )
    )
    for answer in (two, prime):  # tokens used and a cost for them
        assert int(answer[1]) > 0 and float(answer[2]) > 0
    assert capital is not None  # Capital.model_validate_json parsed the structured answer
    assert sorted(m[2] for m in facts) == ["1", "2", "3"]
    assert len({m[1] for m in facts}) == 3  # one task id per prompt
    assert hit[1] == "True"  # the second cached call was a local cache hit
    assert weather[2] in {"no_tool_calls", "max_rounds"}
    assert swarm[1] == "20"  # one result per agent loop
    assert int(streamed[1]) > 0  # output tokens of the streamed reply
    assert shape[1] == "2" and int(shape[2]) > 0  # two embedding vectors (a list, as in lm-deluge)
    # Every one of the 40 prompts answered; a 429 would be retried, so it adds a request.
    assert int(rehearsal[1]) - int(rehearsal[2]) == 40


def test_benchmark_figures_in_the_readme_are_the_ones_results_md_holds() -> None:
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    section = README.split("## Benchmarks", 1)[1].split("\n## ", 1)[0]
    figures = re.findall(r"(?<![\w.])\d[\d,]*\.\d+|(?<![\w.])\d{1,3}(?:,\d{3})+", section)
    assert len(figures) >= 10, "the benchmark table went missing from the README"
    missing = [f for f in figures if f not in results]
    assert not missing, f"README quotes figures that benchmarks/RESULTS.md does not hold: {missing}"
