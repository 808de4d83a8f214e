"""FilesystemManager against a hostile model: regexes, special files, links and deep paths."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from deluge_ray.tool.prefab import FilesystemManager, InMemoryWorkspace


def call(fs: FilesystemManager, command: str, **kw: object) -> dict:
    return json.loads(fs.run_command(command, **kw))


@pytest.fixture(params=["memory", "directory"])
def fs(request: pytest.FixtureRequest, tmp_path: Path) -> FilesystemManager:
    if request.param == "memory":
        return FilesystemManager(InMemoryWorkspace())
    root = tmp_path / "ws"
    root.mkdir()
    return FilesystemManager(root=root)


@pytest.mark.parametrize("pattern", ["(a+)+$", "(a|aa)+$", "(a*)*b", "(.*a){20}"])
def test_catastrophic_patterns_run_in_linear_time(fs: FilesystemManager, pattern: str) -> None:
    # With backtracking, 40 a's and no match take hours; RE2 takes microseconds.
    fs.write_file("a.txt", ("a" * 40 + "!\n") * 200)
    start = time.monotonic()
    result = call(fs, "grep", pattern=pattern)
    assert result["ok"] is True, result
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize(
    ("pattern", "needle"),
    [
        (r"(a)\1", "backreferences"),
        ("(?=a)b", "lookaround"),
        ("(?<!x)y", "lookaround"),
        ("def (", "Invalid regular expression"),
        ("x" * 5000, "keep it under 2,000"),
    ],
)
def test_unsupported_or_bad_patterns_get_a_clear_message(
    fs: FilesystemManager, pattern: str, needle: str
) -> None:
    fs.write_file("a.txt", "aa\n")
    result = call(fs, "grep", pattern=pattern)
    assert result["ok"] is False and needle in result["message"], result
