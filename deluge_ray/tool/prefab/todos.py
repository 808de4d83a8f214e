"""lm-deluge 0.0.168's import path for the todo-list tools (aliases onto ``_todo``)."""

from __future__ import annotations

from ._todo import TodoItem, TodoManager, TodoPriority, TodoStatus

__all__ = ["TodoItem", "TodoManager", "TodoPriority", "TodoStatus"]
