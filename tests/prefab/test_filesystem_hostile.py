"""FilesystemManager against a hostile model: regexes, special files, links and deep paths."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from deluge_ray.tool.prefab import FilesystemManager, InMemoryWorkspace, _dirfd


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


@pytest.fixture
def rooted(tmp_path: Path) -> tuple[FilesystemManager, Path, Path]:
    """A directory workspace and a secret directory beside it."""
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key.txt").write_text("TOP SECRET\n")
    return FilesystemManager(root=root), root, outside


def test_fifo_is_refused_without_blocking(rooted) -> None:
    fs, root, _ = rooted
    os.mkfifo(root / "pipe")
    # Opening a FIFO for reading would block forever with no writer; it is refused first.
    result = call(fs, "read_file", path="pipe")
    assert result["ok"] is False and "FIFO (named pipe), not a regular file" in result["message"]
    write = call(fs, "write_file", path="pipe", content="x")
    assert write["ok"] is False and "FIFO" in write["message"]
    assert call(fs, "list_dir", path=".")["result"]["entries"] == []
    assert call(fs, "grep", pattern="x")["result"]["matches"] == []


def test_hard_link_to_a_file_outside_is_refused(rooted) -> None:
    fs, root, outside = rooted
    os.link(outside / "key.txt", root / "linked.txt")
    result = call(fs, "read_file", path="linked.txt")
    assert result["ok"] is False and "2 hard links" in result["message"]
    assert call(fs, "grep", pattern="SECRET")["result"]["matches"] == []
    patch = "--- a/linked.txt\n+++ b/linked.txt\n@@ -1 +1 @@\n-TOP SECRET\n+owned\n"
    assert call(fs, "apply_patch", patch=patch)["ok"] is False
    assert (outside / "key.txt").read_text() == "TOP SECRET\n"


@pytest.mark.parametrize(
    "target",
    [
        "../secret",  # relative, climbing out
        "sub/../../secret",  # climbing out through an inner directory
        "{outside}",  # absolute
        "{root}/../secret",  # absolute, spelled through the root
    ],
)
def test_links_leaving_the_root_are_refused_however_spelled(rooted, target: str) -> None:
    fs, root, outside = rooted
    (root / "sub").mkdir()
    os.symlink(target.format(outside=outside, root=root), root / "door")
    for command, extra in [("read_file", {}), ("write_file", {"content": "x"})]:
        result = call(fs, command, path="door/key.txt", **extra)
        assert result["ok"] is False and "outside the workspace" in result["message"], result
    assert not (outside / "key.txt.part").exists() and sorted(os.listdir(outside)) == ["key.txt"]


def test_links_that_stay_inside_work_and_link_loops_end(rooted) -> None:
    fs, root, _ = rooted
    (root / "real").mkdir()
    (root / "real" / "a.txt").write_text("inside\n")
    os.symlink("sub/../real", root / "rel")  # relative, through '..', still inside
    os.symlink(root / "real", root / "abs")  # absolute, inside
    (root / "sub").mkdir()
    assert fs.read_file("rel/a.txt")["content"] == "inside\n"
    assert fs.read_file("abs/a.txt")["content"] == "inside\n"
    fs.write_file("rel/b.txt", "via link\n")
    assert (root / "real" / "b.txt").read_text() == "via link\n"
    os.symlink("loop2", root / "loop1")
    os.symlink("loop1", root / "loop2")
    result = call(fs, "read_file", path="loop1/x")
    assert result["ok"] is False and "too many levels of symbolic links" in result["message"]


def test_deleting_a_link_removes_the_link_not_its_target(rooted) -> None:
    fs, root, outside = rooted
    os.symlink(outside / "key.txt", root / "key-link.txt")
    os.symlink(outside, root / "dir-link")
    assert call(fs, "delete_path", path="key-link.txt")["ok"] is True
    assert call(fs, "delete_path", path="dir-link")["ok"] is True
    assert (outside / "key.txt").read_text() == "TOP SECRET\n"
    assert not (root / "key-link.txt").is_symlink() and not (root / "dir-link").is_symlink()


def test_path_depth_is_bounded_with_a_clear_error(fs: FilesystemManager) -> None:
    deep = "/".join(["d"] * 40) + "/f.txt"
    for command, extra in [("write_file", {"content": "x"}), ("read_file", {}), ("list_dir", {})]:
        result = call(fs, command, path=deep, **extra)
        assert result["ok"] is False and "41 levels; the limit is 32" in result["message"], result
    ok_path = "/".join(["d"] * 31) + "/f.txt"
    assert call(fs, "write_file", path=ok_path, content="x")["ok"] is True
    assert call(fs, "read_file", path=ok_path)["result"]["content"] == "x"


@pytest.mark.parametrize("command", ["read_file", "write_file"])
def test_a_directory_swapped_for_a_link_mid_walk_is_not_followed(
    rooted, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    # The attacker's swap is made to happen exactly between the walk's inspection of 'sub'
    # and its opening: the check-then-use window a resolve-then-open design has.
    fs, root, outside = rooted
    (root / "sub").mkdir()
    real_stat = os.stat

    def racing_stat(path, *args, **kwargs):
        info = real_stat(path, *args, **kwargs)
        if path == "sub" and kwargs.get("dir_fd") is not None and (root / "sub").is_dir():
            os.rmdir(root / "sub")
            os.symlink(outside, root / "sub")
        return info

    monkeypatch.setattr(_dirfd.os, "stat", racing_stat)
    result = call(fs, command, path="sub/key.txt", content="owned")
    monkeypatch.undo()
    assert result["ok"] is False, result
    assert "TOP SECRET" not in json.dumps(result)
    assert (outside / "key.txt").read_text() == "TOP SECRET\n"
    assert (root / "sub").is_symlink()  # the swap did happen
