"""FilesystemManager's envelopes carry what lm-deluge 0.0.168's carry (test-only oracle)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from lm_deluge.tool.prefab.filesystem import FilesystemManager as OracleManager

from deluge_ray.tool.prefab import FilesystemManager, WorkspacePathError


def both(command: str, **kw: object) -> tuple[dict, dict]:
    """Run the same call on fresh managers of both libraries holding the same two files."""
    ours, oracle = FilesystemManager(), OracleManager()
    results = []
    for manager in (ours, oracle):
        [tool] = manager.get_tools()
        tool.call(command="write_file", path="src/a.py", content="one\ntwo\nthree\n")
        tool.call(command="write_file", path="b.txt", content="x")
        results.append(json.loads(tool.call(command=command, **kw)))
    return results[0], results[1]


@pytest.mark.parametrize(
    ("command", "kw"),
    [
        ("read_file", {"path": "src/a.py"}),
        ("read_file", {"path": "src/a.py", "start_line": 2, "end_line": 3}),
        ("write_file", {"path": "c.txt", "content": "new"}),
        ("write_file", {"path": "b.txt", "content": "y", "mode": "create_if_missing"}),
        ("delete_path", {"path": "b.txt"}),
        ("list_dir", {"path": "."}),
        ("grep", {"pattern": "t", "max_results": 5}),
    ],
)
def test_result_envelope_has_every_key_and_value_the_oracle_gives(command: str, kw: dict) -> None:
    ours, oracle = both(command, **kw)
    assert ours["ok"] is oracle["ok"] is True
    # Our envelopes may hold more keys, never fewer.
    missing = set(oracle["result"]) - set(ours["result"])
    assert not missing, missing
    for key, value in oracle["result"].items():
        # grep's path: ours says "." where the oracle echoes the missing argument as null.
        if key == "path" and value is None:
            continue
        assert ours["result"][key] == value, key


def test_a_path_escape_is_a_value_error_as_in_the_oracle() -> None:
    ours, oracle = both("read_file", path="../etc/passwd")
    assert ours["ok"] is oracle["ok"] is False and oracle["error"] == "ValueError"
    with pytest.raises(ValueError, match=r"contains '\.\.'"):
        FilesystemManager().read_file("../etc/passwd")
    assert issubclass(WorkspacePathError, ValueError)


@pytest.mark.parametrize("as_zip", [False, True])
def test_dump_writes_the_files_and_returns_their_paths(tmp_path: Path, as_zip: bool) -> None:
    ours, oracle = FilesystemManager(), OracleManager()
    for manager in (ours, oracle):
        [tool] = manager.get_tools()
        tool.call(command="write_file", path="src/a.py", content="one\n")
        tool.call(command="write_file", path="b.txt", content="x")
    target = tmp_path / ("out.zip" if as_zip else "out")
    written = ours.dump(target, as_zip=as_zip)
    assert written == oracle.dump(tmp_path / ("o.zip" if as_zip else "o"), as_zip=as_zip)
    assert written == ["b.txt", "src/a.py"]
    if as_zip:
        with zipfile.ZipFile(target) as archive:
            assert archive.read("src/a.py") == b"one\n"
    else:
        assert (target / "src" / "a.py").read_text() == "one\n"
