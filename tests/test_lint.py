"""The code base stays ruff-clean: a lint failure fails the test run, not just a pre-commit hook."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("args", [["check", "."], ["format", "--check", "."]])
def test_ruff_is_clean(args: list[str]) -> None:
    # Through this interpreter, so the venv's ruff runs even when its bin/ is not on PATH.
    ruff = [sys.executable, "-m", "ruff"]
    result = subprocess.run([*ruff, *args], cwd=ROOT, capture_output=True, text=True)
    assert "No module named ruff" not in result.stderr, (
        "ruff is in the dev extra: pip install -e '.[dev]'"
    )
    assert result.returncode == 0, result.stdout + result.stderr
