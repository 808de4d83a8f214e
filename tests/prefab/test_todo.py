"""TodoManager through its tools: replace, merge updates, and bad input as messages."""

from __future__ import annotations

import json

import pytest

from deluge_ray.errors import ToolError
from deluge_ray.tool.prefab import TodoItem, TodoManager, TodoPriority, TodoStatus


def tools(manager: TodoManager) -> dict:
    return {t.name: t for t in manager.get_tools()}


def test_todowrite_replaces_list_and_todoread_returns_it() -> None:
    manager = TodoManager()
    t = tools(manager)
    out = json.loads(
        t["todowrite"].call(
            todos=[
                {"id": "1", "content": "read code", "status": "completed", "priority": "low"},
                {"id": "2", "content": "fix bug", "status": "In_Progress", "priority": "HIGH"},
            ]
        )
    )
    assert out["title"] == "1 todos"  # completed items are not active
    read = json.loads(t["todoread"].call())
    assert [item["status"] for item in read["todos"]] == ["completed", "in_progress"]
    [_, second] = manager.get_todos()
    assert second.status is TodoStatus.IN_PROGRESS and second.priority is TodoPriority.HIGH
    t["todowrite"].call(
        todos=[{"id": "9", "content": "only one", "status": "pending", "priority": "medium"}]
    )
    assert [x.id for x in manager.get_todos()] == ["9"]


def test_merge_updates_by_id_and_unknown_id_is_a_clear_message() -> None:
    manager = TodoManager([TodoItem(id="a", content="plan"), TodoItem(id="b", content="build")])
    t = tools(manager)
    t["todowrite"].call(todos=[{"id": "b", "status": "completed"}], merge=True)
    assert [(x.id, x.status.value, x.content) for x in manager.get_todos()] == [
        ("a", "pending", "plan"),
        ("b", "completed", "build"),
    ]
    bad = json.loads(
        t["todowrite"].call(todos=[{"id": "a", "status": "completed"}, {"id": "zzz"}], merge=True)
    )
    assert bad["ok"] is False
    assert "Unknown todo id 'zzz'" in bad["message"] and "a, b" in bad["message"]
    # The valid first update in the same call was not applied either.
    assert manager.get_todos()[0].status == "pending"


@pytest.mark.parametrize(
    ("todos", "needle"),
    [
        ([{"id": "1", "content": "x", "status": "done-ish"}], "Todo #1 is invalid (status"),
        ([{"id": "1"}], "content"),
        ([{"id": "1", "content": "a"}, {"id": "1", "content": "b"}], "appears twice"),
        (["not an object"], "must be an object"),
    ],
)
def test_invalid_todos_are_messages_and_keep_the_old_list(todos: list, needle: str) -> None:
    manager = TodoManager([{"id": "keep", "content": "existing"}])
    result = json.loads(tools(manager)["todowrite"].call(todos=todos))
    assert result["ok"] is False and needle in result["message"]
    assert [x.id for x in manager.get_todos()] == ["keep"]


def test_plain_methods_raise_tool_error_for_developers() -> None:
    with pytest.raises(ToolError):
        TodoManager().write([{"id": "nope"}], merge=True)
    assert TodoItem(content="x").is_active()
