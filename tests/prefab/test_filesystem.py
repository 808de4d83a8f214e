"""FilesystemManager over both backends: commands, atomic patches, and path confinement."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.tool.prefab import (
    DirectoryWorkspace,
    FilesystemManager,
    InMemoryWorkspace,
    WorkspaceBackend,
)


@pytest.fixture(params=["memory", "directory"])
def fs(request: pytest.FixtureRequest, tmp_path: Path) -> FilesystemManager:
    """The same behaviour is required of the in-memory and the real-directory backend."""
    if request.param == "memory":
        return FilesystemManager(InMemoryWorkspace())
    root = tmp_path / "ws"
    root.mkdir()
    return FilesystemManager(root=root)


def call(fs: FilesystemManager, command: str, **kw: object) -> dict:
    return json.loads(fs.run_command(command, **kw))


def test_backends_satisfy_the_protocol(tmp_path: Path) -> None:
    assert isinstance(InMemoryWorkspace(), WorkspaceBackend)
    assert isinstance(DirectoryWorkspace(tmp_path), WorkspaceBackend)


def test_read_write_list_delete_round_trip(fs: FilesystemManager) -> None:
    assert call(fs, "write_file", path="src/app.py", content="a\nb\nc\nd\n")["ok"]
    call(fs, "write_file", path="src/app.py", content="e\n", mode="append")
    read = call(fs, "read_file", path="src/app.py", start_line=2, end_line=3)["result"]
    assert read["content"] == "b\nc"
    assert read["total_lines"] == 5
    top = call(fs, "list_dir", path=".")["result"]["entries"]
    assert top == [{"path": "src", "type": "directory", "size": None}]
    deep = call(fs, "list_dir", path=".", recursive=True)["result"]["entries"]
    assert [e["path"] for e in deep] == ["src", "src/app.py"]
    kept = call(fs, "write_file", path="src/app.py", content="x", mode="create_if_missing")
    assert kept["result"]["written"] is False
    assert call(fs, "delete_path", path="src")["ok"]
    missing = call(fs, "read_file", path="src/app.py")
    assert missing["ok"] is False and "does not exist" in missing["message"]


def test_read_file_range_errors_are_messages(fs: FilesystemManager) -> None:
    fs.write_file("f.txt", "1\n2\n")
    past = call(fs, "read_file", path="f.txt", start_line=9)
    assert "past the end of 'f.txt' (2 lines)" in past["message"]
    backwards = call(fs, "read_file", path="f.txt", start_line=2, end_line=1)
    assert "must not be smaller" in backwards["message"]


def test_long_reads_are_truncated_with_a_hint(tmp_path: Path) -> None:
    fs = FilesystemManager(max_read_lines=3)
    fs.write_file("big.txt", "".join(f"{n}\n" for n in range(10)))
    result = fs.read_file("big.txt")
    assert result["end_line"] == 3
    assert "start_line=4" in result["note"]


def test_grep_finds_lines_honours_limit_and_reports_bad_regex(fs: FilesystemManager) -> None:
    fs.write_file("a.py", "def f():\n    return 1\n")
    fs.write_file("pkg/b.py", "def g():\n    pass\ndef h():\n")
    hits = call(fs, "grep", pattern=r"^def \w+", max_results=10)["result"]["matches"]
    assert [(m["path"], m["line"]) for m in hits] == [("a.py", 1), ("pkg/b.py", 1), ("pkg/b.py", 3)]
    limited = call(fs, "grep", pattern="def", max_results=2)["result"]
    assert len(limited["matches"]) == 2 and limited["truncated"] is True
    scoped = call(fs, "grep", pattern="def", path="pkg")["result"]["matches"]
    assert {m["path"] for m in scoped} == {"pkg/b.py"}
    bad = call(fs, "grep", pattern="def (")
    assert bad["ok"] is False and "Invalid regular expression" in bad["message"]


def test_multi_file_patch_applies_creates_and_deletes(fs: FilesystemManager) -> None:
    fs.write_file("a.txt", "one\ntwo\n")
    fs.write_file("gone.txt", "bye\n")
    patch = (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"
        "--- /dev/null\n+++ b/new/c.txt\n@@ -0,0 +1 @@\n+fresh\n"
        "--- a/gone.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
    )
    result = call(fs, "apply_patch", patch=patch)
    assert result["ok"], result
    assert fs.backend.read_file("a.txt") == "one\nTWO\n"
    assert fs.backend.read_file("new/c.txt") == "fresh\n"
    assert "does not exist" in call(fs, "read_file", path="gone.txt")["message"]


def test_failing_patch_changes_nothing_in_any_file(fs: FilesystemManager) -> None:
    fs.write_file("a.txt", "one\ntwo\n")
    fs.write_file("b.txt", "three\nfour\n")
    patch = (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n one\n-two\n+TWO\n"
        "--- /dev/null\n+++ b/c.txt\n@@ -0,0 +1 @@\n+c\n"
        "--- a/b.txt\n+++ b/b.txt\n@@ -1,2 +1,2 @@\n three\n-five\n+FIVE\n"
    )
    result = call(fs, "apply_patch", patch=patch)
    assert result["ok"] is False
    assert "Hunk 1" in result["message"] and "'b.txt'" in result["message"]
    assert "five" in result["message"]
    assert fs.backend.read_file("a.txt") == "one\ntwo\n"
    assert "does not exist" in call(fs, "read_file", path="c.txt")["message"]


def test_write_failure_mid_patch_restores_earlier_files(fs: FilesystemManager) -> None:
    # The hunks all apply, but creating 'blocker/x' fails because 'blocker' is a file:
    # the already-written a.txt must be put back.
    fs.write_file("a.txt", "one\n")
    fs.write_file("blocker", "i am a file\n")
    patch = (
        "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-one\n+ONE\n"
        "--- /dev/null\n+++ b/blocker/x\n@@ -0,0 +1 @@\n+x\n"
    )
    result = call(fs, "apply_patch", patch=patch)
    assert result["ok"] is False and "changed nothing" in result["message"]
    assert fs.backend.read_file("a.txt") == "one\n"


def test_malformed_patch_and_operation_form(fs: FilesystemManager) -> None:
    bad = call(fs, "apply_patch", patch="this is not a diff")
    assert bad["ok"] is False and "No file changes" in bad["message"]
    created = call(
        fs, "apply_patch", operation={"type": "create_file", "path": "n.txt", "diff": "+hi\n"}
    )
    assert created["ok"], created
    updated = call(
        fs,
        "apply_patch",
        operation={"type": "update_file", "path": "n.txt", "diff": "@@\n-hi\n+ho\n"},
    )
    assert updated["ok"], updated
    assert fs.backend.read_file("n.txt") == "ho\n"
    assert call(fs, "apply_patch", operation={"type": "delete_file", "path": "n.txt"})["ok"]
    clash = call(fs, "apply_patch", patch="--- /dev/null\n+++ b/a\n@@ -0,0 +1 @@\n+x\n")
    assert clash["ok"]
    again = call(fs, "apply_patch", patch="--- /dev/null\n+++ b/a\n@@ -0,0 +1 @@\n+x\n")
    assert "already exists" in again["message"]


@pytest.mark.parametrize(
    ("path", "needle"),
    [
        ("../outside.txt", "'..'"),
        ("a/../../outside.txt", "'..'"),
        ("a\\..\\..\\x", "'..'"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/x", "absolute"),
        ("ok\x00.txt", "NUL"),
    ],
)
def test_path_escapes_are_refused_for_every_command(
    fs: FilesystemManager, path: str, needle: str
) -> None:
    for command, extra in [
        ("read_file", {}),
        ("write_file", {"content": "x"}),
        ("delete_path", {}),
        ("list_dir", {}),
    ]:
        result = call(fs, command, path=path, **extra)
        assert result["ok"] is False and needle in result["message"], (command, result)
    patch = f"--- /dev/null\n+++ {path}\n@@ -0,0 +1 @@\n+x\n"
    assert call(fs, "apply_patch", patch=patch)["ok"] is False


def test_symlinks_pointing_outside_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    outside = tmp_path / "secret"
    outside.mkdir()
    (outside / "key.txt").write_text("TOP SECRET\n")
    os.symlink(outside, root / "escape")
    os.symlink(outside / "key.txt", root / "key-link.txt")
    fs = FilesystemManager(root=root)
    for path in ("escape/key.txt", "key-link.txt"):
        result = call(fs, "read_file", path=path)
        assert result["ok"] is False and "outside the workspace" in result["message"]
    write = call(fs, "write_file", path="escape/planted.txt", content="x")
    assert write["ok"] is False and not (outside / "planted.txt").exists()
    assert call(fs, "delete_path", path="escape/key.txt")["ok"] is False
    patch = "--- a/key-link.txt\n+++ b/key-link.txt\n@@ -1 +1 @@\n-TOP SECRET\n+owned\n"
    assert call(fs, "apply_patch", patch=patch)["ok"] is False
    # Listing and grep neither show nor follow the links.
    listing = call(fs, "list_dir", path=".", recursive=True)["result"]["entries"]
    assert listing == []
    assert call(fs, "grep", pattern="SECRET")["result"]["matches"] == []
    assert (outside / "key.txt").read_text() == "TOP SECRET\n"


def test_symlink_inside_the_workspace_still_works(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("inside\n")
    os.symlink(tmp_path / "real.txt", tmp_path / "alias.txt")
    fs = FilesystemManager(root=tmp_path)
    assert fs.read_file("alias.txt")["content"] == "inside\n"


def test_construction_errors_are_configuration_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError):
        FilesystemManager(InMemoryWorkspace(), root=tmp_path)
    with pytest.raises(ConfigurationError):
        DirectoryWorkspace(tmp_path / "missing")
    with pytest.raises(ConfigurationError):
        FilesystemManager().get_tools(exclude=["format_disk"])


def test_unknown_command_and_missing_arguments_are_messages(fs: FilesystemManager) -> None:
    assert "Unknown command" in call(fs, "format_disk")["message"]
    assert "needs content" in call(fs, "write_file", path="x")["message"]


async def test_tools_run_through_tool_objects() -> None:
    fs = FilesystemManager()
    [tool] = fs.get_tools()
    assert tool.name == "filesystem"
    assert tool.parameters["command"]["enum"][0] == "read_file"
    assert json.loads(tool.call(command="write_file", path="a.txt", content="hi\n"))["ok"]
    read = json.loads(await tool.acall(command="read_file", path="a.txt"))
    assert read["result"]["content"] == "hi\n"
    escape = json.loads(tool.call(command="read_file", path="../x"))
    assert escape["ok"] is False


def test_separate_tools_and_exclude() -> None:
    fs = FilesystemManager()
    tools = fs.get_tools(separate=True, exclude=["delete_path"])
    by_name = {t.name: t for t in tools}
    assert set(by_name) == {"read_file", "write_file", "list_dir", "grep", "apply_patch"}
    assert by_name["write_file"].required == ["path", "content"]
    by_name["write_file"].call(path="x.txt", content="1\n")
    assert json.loads(by_name["grep"].call(pattern="1"))["result"]["matches"][0]["path"] == "x.txt"
    [single] = fs.get_tools(exclude=["write_file", "delete_path", "apply_patch"])
    assert "write_file" not in single.parameters["command"]["enum"]
    refused = json.loads(single.call(command="write_file", path="y", content="z"))
    assert refused["ok"] is False and "disabled" in refused["message"]
