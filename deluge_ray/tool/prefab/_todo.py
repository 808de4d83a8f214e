"""TodoManager: a structured todo list the model keeps during a long session.

``todowrite`` replaces the whole list (the lm-deluge behaviour), or, with ``merge=true``,
updates existing items by id; ``todoread`` returns the list. Both answer with JSON.

Example:
    >>> todos = TodoManager()
    >>> _ = todos.write([{"id": "1", "content": "write tests", "priority": "high"}])
    >>> todos.get_todos()[0].status
    <TodoStatus.PENDING: 'pending'>
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Sequence
from enum import Enum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from ...errors import ToolError
from ._common import PicklesWithLock, make_tool

__all__ = ["TodoItem", "TodoManager", "TodoPriority", "TodoStatus"]


class TodoStatus(str, Enum):
    """Where a todo stands; compares equal to its string value (``"pending"`` ...)."""

    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class TodoPriority(str, Enum):
    """How urgent a todo is; compares equal to its string value (``"high"`` ...)."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


class TodoItem(BaseModel):
    """One todo entry.

    >>> TodoItem(content="ship it", status="IN_PROGRESS").status == "in_progress"
    True
    """

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:8], description="Unique id")
    content: str = Field(description="Brief description of the task")
    status: TodoStatus = Field(default=TodoStatus.PENDING, description="Current status")
    priority: TodoPriority = Field(default=TodoPriority.MEDIUM, description="Priority level")

    @field_validator("status", "priority", mode="before")
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        # Models write "In_Progress" or "HIGH" often enough that refusing would be unkind.
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("id", mode="before")
    @classmethod
    def _id_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    def is_active(self) -> bool:
        """Neither completed nor cancelled."""
        return self.status not in (TodoStatus.COMPLETED, TodoStatus.CANCELLED)


_WRITE_DESCRIPTION = (
    "Create and maintain a structured todo list for the current task. Use it for work with "
    "three or more steps: capture the steps, mark one in_progress while working on it, and "
    "mark items completed as soon as they are done. Pass the complete list in `todos` (it "
    "replaces the current list), or set merge=true to update only the listed items by id "
    "(only the fields you give change). status: pending | in_progress | completed | "
    "cancelled; priority: high | medium | low."
)
_READ_DESCRIPTION = "Read the current todo list."

_TODO_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "Unique identifier of the todo item"},
        "content": {"type": "string", "description": "Brief description of the task"},
        "status": {"type": "string", "enum": [s.value for s in TodoStatus]},
        "priority": {"type": "string", "enum": [p.value for p in TodoPriority]},
    },
    "required": ["id", "content", "status", "priority"],
}


def _validation_message(exc: ValidationError, index: int) -> str:
    problems = "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or 'item'}: {err['msg']}" for err in exc.errors()
    )
    return f"Todo #{index + 1} is invalid ({problems})."


class TodoManager(PicklesWithLock):
    """Holds a todo list and exposes ``todowrite`` / ``todoread`` tools.

    >>> manager = TodoManager([TodoItem(id="a", content="plan")])
    >>> [t.name for t in manager.get_tools()]
    ['todowrite', 'todoread']
    """

    def __init__(
        self,
        todos: Sequence[TodoItem | dict[str, Any]] | None = None,
        *,
        write_tool_name: str = "todowrite",
        read_tool_name: str = "todoread",
    ) -> None:
        self.write_tool_name = write_tool_name
        self.read_tool_name = read_tool_name
        self._lock = threading.Lock()  # tools may run on worker threads concurrently
        self._todos: list[TodoItem] = self._coerce_all(list(todos or []))

    @staticmethod
    def _coerce_all(items: list[Any]) -> list[TodoItem]:
        todos: list[TodoItem] = []
        for index, item in enumerate(items):
            if isinstance(item, TodoItem):
                todos.append(item)
                continue
            if not isinstance(item, dict):
                raise ToolError(f"Todo #{index + 1} must be an object, got {item!r}.")
            try:
                todos.append(TodoItem(**item))
            except ValidationError as exc:
                raise ToolError(_validation_message(exc, index)) from None
        seen: set[str] = set()
        for todo in todos:
            if todo.id in seen:
                raise ToolError(f"Todo id {todo.id!r} appears twice; ids must be unique.")
            seen.add(todo.id)
        return todos

    def get_todos(self) -> list[TodoItem]:
        """A copy of the current list."""
        with self._lock:
            return [t.model_copy() for t in self._todos]

    def write(self, todos: list[dict[str, Any]], merge: bool = False) -> list[TodoItem]:
        """Replace the list, or (``merge=True``) update existing items by id.

        An update naming an unknown id raises :class:`ToolError` and changes nothing.
        """
        if not isinstance(todos, list):
            raise ToolError("todos must be a list of todo objects.")
        with self._lock:
            if not merge:
                self._todos = self._coerce_all(todos)
                return [t.model_copy() for t in self._todos]
            by_id = {t.id: t for t in self._todos}
            updated: dict[str, TodoItem] = {}
            for index, change in enumerate(todos):
                if not isinstance(change, dict) or "id" not in change:
                    raise ToolError(f"Update #{index + 1} needs the id of an existing todo.")
                todo_id = str(change["id"])
                if todo_id not in by_id:
                    known = ", ".join(sorted(by_id)) or "none"
                    raise ToolError(
                        f"Unknown todo id {todo_id!r} in update #{index + 1}; existing ids: "
                        f"{known}. To add new items, send the full list with merge=false."
                    )
                base = updated.get(todo_id, by_id[todo_id]).model_dump()
                try:
                    updated[todo_id] = TodoItem(**{**base, **change, "id": todo_id})
                except ValidationError as exc:
                    raise ToolError(_validation_message(exc, index)) from None
            # Applied only after every update validated, so a bad one changes nothing.
            self._todos = [updated.get(t.id, t) for t in self._todos]
            return [t.model_copy() for t in self._todos]

    def render(self) -> str:
        """The JSON the tools return: a title with the active count, and the items."""
        with self._lock:
            active = sum(1 for t in self._todos if t.is_active())
            items = [t.model_dump(mode="json") for t in self._todos]
        return json.dumps({"title": f"{active} todos", "todos": items}, indent=2)

    def _write_tool(self, todos: list[dict[str, Any]], merge: bool = False) -> str:
        try:
            self.write(todos, merge=merge)
        except ToolError as exc:
            return json.dumps({"ok": False, "message": str(exc)})
        return self.render()

    def get_tools(self) -> list:
        """The ``todowrite`` and ``todoread`` tools, bound to this manager."""
        write = make_tool(
            self.write_tool_name,
            _WRITE_DESCRIPTION,
            {
                "todos": {
                    "type": "array",
                    "description": "The todo list (or, with merge, the items to update)",
                    "items": _TODO_SCHEMA,
                },
                "merge": {
                    "type": "boolean",
                    "description": "Update listed items by id instead of replacing the list",
                },
            },
            ["todos"],
            self._write_tool,
        )
        read = make_tool(self.read_tool_name, _READ_DESCRIPTION, {}, [], self.render)
        return [write, read]
