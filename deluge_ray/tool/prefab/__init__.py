"""Ready-made tool suites for agents (the reference's ``lm_deluge.tool.prefab``).

Each manager keeps its state in plain Python methods and exposes them to a model through
``get_tools()``; tools answer bad model input with clear messages instead of raising.

Example:
    >>> from deluge_ray.tool.prefab import FilesystemManager
    >>> fs = FilesystemManager()
    >>> fs.write_file("hello.txt", "hi\\n")["written"]
    True
"""

from __future__ import annotations

from ._batch import BatchTool
from ._composer import ToolComposer
from ._filesystem import FilesystemManager
from ._filesystem_params import FilesystemParams
from ._memory import MemoryItem, MemoryManager
from ._patch import PatchError
from ._sandbox_lib import SandboxError, SnippetError
from ._subagents import SubAgentManager
from ._todo import TodoItem, TodoManager, TodoPriority, TodoStatus
from ._tool_search import ToolSearchTool
from ._workspace import DirectoryWorkspace, InMemoryWorkspace, WorkspaceBackend, WorkspacePathError
from .filesystem import InMemoryWorkspaceBackend

__all__ = [
    "BatchTool",
    "DirectoryWorkspace",
    "FilesystemManager",
    "FilesystemParams",
    "InMemoryWorkspace",
    "InMemoryWorkspaceBackend",
    "MemoryItem",
    "MemoryManager",
    "PatchError",
    "SandboxError",
    "SnippetError",
    "SubAgentManager",
    "TodoItem",
    "TodoManager",
    "TodoPriority",
    "TodoStatus",
    "ToolComposer",
    "ToolSearchTool",
    "WorkspaceBackend",
    "WorkspacePathError",
]
