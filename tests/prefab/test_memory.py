"""MemoryManager through its tools, and persistence to a real JSON file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deluge_ray.errors import ConfigurationError
from deluge_ray.tool.prefab import MemoryManager


def tools(manager: MemoryManager) -> dict:
    return {t.name: t for t in manager.get_tools()}


def result(raw: str) -> object:
    payload = json.loads(raw)
    assert payload["ok"], payload
    return payload["result"]


def test_write_search_read_update_delete_through_tools() -> None:
    t = tools(MemoryManager())
    first = result(
        t["memwrite"].call(description="Deploy steps", content="Run make deploy on prod")
    )
    second = result(t["memwrite"].call(description="User likes tea", content="Green tea, no sugar"))
    assert (first["id"], second["id"]) == (1, 2)
    hits = result(t["memsearch"].call(queries=["deploy prod"]))
    assert hits == [{"id": 1, "description": "Deploy steps"}]
    ranked = result(t["memsearch"].call(queries=["tea", "sugar deploy"]))
    assert [h["id"] for h in ranked] == [2, 1]  # 2 matches two keywords, 1 matches one
    by_regex = result(t["memsearch"].call(pattern=r"green\s+tea"))
    assert [h["id"] for h in by_regex] == [2]
    assert result(t["memread"].call(mem_ids=[2]))[0]["content"] == "Green tea, no sugar"
    result(t["memupdate"].call(mem_id=2, content="Black tea"))
    assert result(t["memread"].call(mem_ids=["2"]))[0] == {
        "id": 2,
        "description": "User likes tea",
        "content": "Black tea",
    }
    result(t["memdelete"].call(mem_id=1))
    assert result(t["memsearch"].call(queries=["deploy"])) == []


@pytest.mark.parametrize(
    ("tool", "kwargs", "needle"),
    [
        ("memread", {"mem_ids": [1, 42]}, "Memory id 42 not found; existing ids: 1"),
        ("memupdate", {"mem_id": 7, "content": "x"}, "Memory id 7 not found"),
        ("memdelete", {"mem_id": 7}, "Memory id 7 not found"),
        ("memupdate", {"mem_id": 1}, "needs a new description"),
        ("memsearch", {"pattern": "(unclosed"}, "Invalid regular expression"),
        ("memsearch", {}, "needs queries"),
        ("memdelete", {"mem_id": "one"}, "must be an integer"),
    ],
)
def test_bad_input_is_a_clear_message(tool: str, kwargs: dict, needle: str) -> None:
    manager = MemoryManager([{"id": 1, "description": "d", "content": "c"}])
    payload = json.loads(tools(manager)[tool].call(**kwargs))
    assert payload["ok"] is False and needle in payload["message"]
    assert [m.id for m in manager.get_memories()] == [1]


def test_notes_persist_to_a_json_file_and_reload(tmp_path: Path) -> None:
    path = tmp_path / "mem" / "notes.json"
    manager = MemoryManager(path=path)
    manager.add("a", "alpha")
    manager.add("b", "beta")
    manager.update(1, description="A")
    manager.delete(2)
    assert json.loads(path.read_text()) == [{"id": 1, "description": "A", "content": "alpha"}]
    assert [p.name for p in path.parent.iterdir()] == ["notes.json"]  # no temp files left
    reloaded = MemoryManager.from_file(path)
    assert reloaded.get_memories()[0].description == "A"
    assert reloaded.add("c", "gamma") == 2


def test_bad_memory_files_are_configuration_errors(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ConfigurationError, match="Cannot read memory file"):
        MemoryManager(path=broken)
    with pytest.raises(ConfigurationError, match="does not exist"):
        MemoryManager.from_file(tmp_path / "missing.json")
    wrong = tmp_path / "wrong.json"
    wrong.write_text('{"id": 1}')
    with pytest.raises(ConfigurationError, match="JSON list"):
        MemoryManager(path=wrong)
